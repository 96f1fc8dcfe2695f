/** Fakes for evaluation tests: a model whose NLLs are a known function, and LLaMA-2's tokenizer. */
import fs from 'fs';
import os from 'os';
import path from 'path';

import type { RopeChoice, ScoringModel } from '../../src/eval/scoring-model';
import { loadTokenizer, type Tokenizer } from '../../src/data/tokenizer';
import type { RopeSpec } from '../../src/rope/types';

/** One recorded nll() call. */
export interface NllCall {
  tokens: number[];
  scoreFrom: number;
  rope?: RopeChoice;
  ropeLength?: number;
}

/** The NLL of token `tokens[t]` at position t given the whole input (`tokens`). */
export type NllFn = (tokens: number[], t: number) => number;

export const FAKE_ROPE: RopeSpec = { method: 'none', headDim: 8, base: 10000, originalLength: 4096, length: 4096 };

/** A ScoringModel whose per-token NLL is `fn`; records every call. */
export class FakeModel implements ScoringModel {
  readonly calls: NllCall[] = [];
  readonly generateCalls: number[][] = [];
  config: ScoringModel['config'];

  constructor(
    private readonly fn: NllFn,
    config: Partial<ScoringModel['config']> = {},
    private readonly reply: (prompt: number[]) => number[] = () => [],
  ) {
    this.config = { vocabSize: 1000, rope: FAKE_ROPE, bosTokenId: 99, eosTokenId: null, ...config };
  }

  async nll(tokens: ArrayLike<number>, options: { rope?: RopeChoice; ropeLength?: number; scoreFrom?: number } = {}): Promise<Float32Array> {
    const ids = Array.from(tokens);
    const scoreFrom = options.scoreFrom ?? 1;
    this.calls.push({ tokens: ids, scoreFrom, rope: options.rope, ...(options.ropeLength === undefined ? {} : { ropeLength: options.ropeLength }) });
    const out = new Float32Array(ids.length - scoreFrom);
    for (let t = scoreFrom; t < ids.length; t++) out[t - scoreFrom] = this.fn(ids, t);
    return out;
  }

  async generate(prompt: ArrayLike<number>): Promise<{ tokens: number[] }> {
    const ids = Array.from(prompt);
    this.generateCalls.push(ids);
    return { tokens: this.reply(ids) };
  }
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'longrope-eval-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const BPE = path.join(__dirname, '..', 'fixtures', 'checkpoint', 'bpe-tokenizer');

/** LLaMA-2's tokenizer rebuilt from llama-tokenizer-js's vocabulary and merges (as test/model does). */
export async function llama2Tokenizer(): Promise<Tokenizer> {
  const src = fs.readFileSync(require.resolve('llama-tokenizer-js'), 'utf8');
  const vocab = Buffer.from(/const llama_vocab_base64 = "([^"]+)"/.exec(src)![1], 'base64').toString('utf8').split('\n');
  const mb = Buffer.from(/const llama_merges_binary = "([^"]+)"/.exec(src)![1], 'base64');
  const merges: string[] = [];
  for (let i = 0; i + 3 < mb.length; i += 4) merges.push(`${vocab[mb.readUInt16LE(i)]} ${vocab[mb.readUInt16LE(i + 2)]}`);
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const fixture = JSON.parse(fs.readFileSync(path.join(BPE, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const json = {
    ...fixture,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    model: { ...(fixture.model as object), vocab: Object.fromEntries(vocab.map((tk, i) => [tk, i])), merges },
  };
  const dir = tempDir('longrope-llama2-');
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  fs.copyFileSync(path.join(BPE, 'tokenizer_config.json'), path.join(dir, 'tokenizer_config.json'));
  return loadTokenizer(dir);
}

export const TINY = path.join(__dirname, '..', 'fixtures', 'model', 'tiny-llama');
export const BYTE_TOKENIZER_DIR = path.join(__dirname, '..', 'fixtures', 'checkpoint', 'byte-tokenizer');
export const EVAL_FIXTURES = path.join(__dirname, '..', 'fixtures', 'eval');
