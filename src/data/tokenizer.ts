/**
 * Text <-> token ids for a model directory.
 *
 * Library choice: `@huggingface/tokenizers` (tokenizers.js, Hugging Face's own pure-JS port,
 * zero dependencies, Apache-2.0). It reads tokenizer.json as the Rust library writes it, including
 * LLaMA/Mistral's SentencePiece-style BPE (`▁` prefix space through the Prepend/Replace normalizer
 * or the Metaspace pre-tokenizer, byte_fallback to `<0xNN>` tokens). Our tests check it against
 * the genuine LLaMA-2 vocabulary and merges (as packaged by llama-tokenizer-js) on known
 * encodings. Preferred over `@anush008/tokenizers` (the Rust library through napi) because it
 * needs no platform binary, so it runs wherever Node does, the GPU machine included.
 *
 * Convention: a directory whose tokenizer_config.json says
 * `"tokenizer_class": "LongropeByteTokenizer"` uses {@link ByteTokenizer} (no tokenizer.json
 * needed). Our bundled tiny model (part 3) is saved that way.
 */
import * as path from 'node:path';

import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';

import { describeValue, expectedMessage, InputError } from '../common/errors';
import { readJsonFile } from '../common/files';
import { isObject } from '../common/objects';

/** Encodes text to ids and back. */
export interface Tokenizer {
  /** Token ids of `text`; `addBos` (default: the tokenizer's add_bos_token, else true) prepends BOS. */
  encode(text: string, opts?: { addBos?: boolean }): number[];
  /** Token ids of raw bytes, for tokenizers that read bytes as they are (the byte tokenizer):
   *  a file that is not valid UTF-8 keeps its bytes instead of U+FFFD. */
  encodeBytes?(bytes: Uint8Array, opts?: { addBos?: boolean }): number[];
  /** Text of `ids`; special tokens (BOS, EOS, ...) are dropped. */
  decode(ids: number[]): string;
  bosId: number | null;
  eosId: number | null;
  /** One more than the largest id. */
  vocabSize: number;
}

/** The tokenizer_class that selects {@link ByteTokenizer}. */
export const BYTE_TOKENIZER_CLASS = 'LongropeByteTokenizer';

function checkIds(ids: unknown, vocabSize: number): number[] {
  if (!Array.isArray(ids)) throw new TypeError(`Expected an array of token ids for ids but received ${describeValue(ids)}`);
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= vocabSize) {
      throw new TypeError(`Expected an integer in [0, ${vocabSize}) for ids[${i}] but received ${describeValue(id)}`);
    }
  });
  return ids as number[];
}

/**
 * Bytes as tokens: ids 0-255 are the UTF-8 bytes, 256 is BOS, 257 is EOS (vocabulary 258).
 * Decoding drops BOS/EOS and turns invalid UTF-8 into U+FFFD, so any id sequence decodes.
 */
export class ByteTokenizer implements Tokenizer {
  readonly bosId = 256;
  readonly eosId = 257;
  readonly vocabSize = 258;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder('utf-8');

  /** UTF-8 bytes of `text`, after BOS unless `addBos` is false. */
  encode(text: string, opts: { addBos?: boolean } = {}): number[] {
    if (typeof text !== 'string') throw new TypeError(`Expected a string for text but received ${describeValue(text)}`);
    return this.encodeBytes(this.encoder.encode(text), opts);
  }

  /** The bytes as ids, after BOS unless `addBos` is false. */
  encodeBytes(bytes: Uint8Array, opts: { addBos?: boolean } = {}): number[] {
    const ids = Array.from(bytes);
    return opts.addBos === false ? ids : [this.bosId, ...ids];
  }

  /** The text of the byte ids, specials dropped. */
  decode(ids: number[]): string {
    const bytes = checkIds(ids, this.vocabSize).filter((id) => id < 256);
    return this.decoder.decode(Uint8Array.from(bytes));
  }
}

/** A tokenizer file's problem in the grammar, naming the file. */
function fileError(file: string, field: string, expected: string, received: string): InputError {
  return new InputError(expectedMessage(file, field, expected, received), field, { file });
}

/** `bos_token` in tokenizer_config.json is a string or an AddedToken object {content, ...}. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/** tokenizer.json through tokenizers.js, with BOS handled here (not by the post-processor). */
class HfJsonTokenizer implements Tokenizer {
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly vocabSize: number;
  private readonly addBosDefault: boolean;

  constructor(private readonly inner: HfTokenizer, config: Record<string, unknown>) {
    let max = -1;
    for (const id of inner.get_vocab(true).values()) max = Math.max(max, id);
    this.vocabSize = max + 1;
    const idOf = (key: string, fallback: string): number | null => {
      const content = tokenContent(config[key]) ?? fallback;
      return inner.token_to_id(content) ?? null;
    };
    this.bosId = idOf('bos_token', '<s>');
    this.eosId = idOf('eos_token', '</s>');
    this.addBosDefault = typeof config.add_bos_token === 'boolean' ? config.add_bos_token : true;
  }

  encode(text: string, opts: { addBos?: boolean } = {}): number[] {
    if (typeof text !== 'string') throw new TypeError(`Expected a string for text but received ${describeValue(text)}`);
    // add_special_tokens false: the post-processor would also add EOS for add_eos_token configs.
    const ids = text.length === 0 ? [] : this.inner.encode(text, { add_special_tokens: false }).ids;
    return (opts.addBos ?? this.addBosDefault) && this.bosId !== null ? [this.bosId, ...ids] : ids;
  }

  decode(ids: number[]): string {
    if (checkIds(ids, this.vocabSize).length === 0) return '';
    return this.inner.decode(ids, { skip_special_tokens: true });
  }
}

/**
 * Loads the tokenizer of a model directory: `tokenizer.json` (+ `tokenizer_config.json` for
 * bos_token, eos_token, add_bos_token), or {@link ByteTokenizer} when tokenizer_config.json names
 * `LongropeByteTokenizer`. Decoding does not clean up tokenization spaces unless the config
 * asks for it, so decode(encode(text)) gives the text back.
 * @throws {InputError} when the files are missing, not JSON, or not a tokenizer we can run.
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const configRaw = readJsonFile(path.join(dir, 'tokenizer_config.json'));
  if (configRaw !== undefined && !isObject(configRaw)) {
    throw fileError('tokenizer_config.json', 'tokenizer_config.json', 'a JSON object', describeValue(configRaw));
  }
  const config: Record<string, unknown> = configRaw ?? {};
  if (config.tokenizer_class === BYTE_TOKENIZER_CLASS) return new ByteTokenizer();
  const json = readJsonFile(path.join(dir, 'tokenizer.json'));
  if (json === undefined) {
    throw new InputError(`tokenizer.json: no tokenizer.json in ${dir} (and tokenizer_config.json does not name ${BYTE_TOKENIZER_CLASS})`, 'file', { file: 'tokenizer.json' });
  }
  if (!isObject(json) || !isObject(json.model)) throw fileError('tokenizer.json', 'model', 'an object', describeValue(isObject(json) ? json.model : json));
  if (!Array.isArray(json.added_tokens)) json.added_tokens = [];
  try {
    const inner = new HfTokenizer(json, { ...config, clean_up_tokenization_spaces: config.clean_up_tokenization_spaces ?? false });
    return new HfJsonTokenizer(inner, config);
  } catch (e) {
    throw new InputError(`tokenizer.json: cannot build the tokenizer (${e instanceof Error ? e.message : String(e)})`, 'model', { file: 'tokenizer.json' });
  }
}
