/**
 * HF LLaMA/Mistral `config.json`: every field the runtime needs, validated once here so the
 * native side can trust the numbers (a shape it computes from them must match the weights).
 * Defaults follow transformers' LlamaConfig/MistralConfig where a field may be absent.
 */
import * as path from 'node:path';

import { describeValue } from '../common/errors';
import { RopeSpecError } from '../rope/errors';
import { hfConfigPatchFromSpec, ropeSpecFromHfConfig } from '../rope/hf-config';
import type { NativeModelConfig } from '../native';
import type { RopeSpec } from '../rope/types';
import { fileError, ModelFileError } from './safetensors';
import { readJsonFile } from '../common/files';
import { isObject } from '../common/objects';

/** A validated model configuration: the runtime's sizes (NativeModelConfig) and the rest of config.json. */
export interface ModelConfig extends NativeModelConfig {
  /** From architectures[0] (LlamaForCausalLM / MistralForCausalLM), else model_type. */
  architecture: 'llama' | 'mistral';
  ropeTheta: number;
  maxPositionEmbeddings: number;
  /** original_max_position_embeddings, else the pretrained window the RoPE spec reads (L). */
  originalMaxPositionEmbeddings: number;
  /** torch_dtype (or transformers v5's `dtype`); float32 when absent, as HF assumes. */
  torchDtype: 'float32' | 'float16' | 'bfloat16';
  bosTokenId: number | null;
  /** eos_token_id; the first one when the config lists several (Llama 3 style). */
  eosTokenId: number | null;
  rope: RopeSpec;
  /** The parsed config.json (a copy), kept so saving preserves fields we do not model. */
  raw: Record<string, unknown>;
}

/** Architectures we run, and their model_type. */
export const ARCHITECTURES = { LlamaForCausalLM: 'llama', MistralForCausalLM: 'mistral' } as const;

/** config.json larger than this is not a config (and reading it whole would be a hazard). */

const DTYPES = ['float32', 'float16', 'bfloat16'] as const;

/**
 * Sizes are int32 on the native side (positions are an Int32Array, shapes fit libtorch's int
 * dims); layers are bounded so a hostile config cannot make expectedTensorShapes build a
 * billion-entry table.
 */
const MAX_DIM = 2 ** 31 - 1;
const MAX_LAYERS = 4096;

/** A positive integer up to `max`, or (kind `positive`) a positive finite number. */
function num(where: string, raw: Record<string, unknown>, key: string, kind: 'positiveInteger' | 'positive', max = MAX_DIM): number {
  const v = raw[key];
  if (kind === 'positive' && typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  if (kind === 'positiveInteger' && Number.isSafeInteger(v) && (v as number) > 0) {
    if ((v as number) <= max) return v as number;
    throw fileError(where, key, `a positive integer at most ${max}`, describeValue(v));
  }
  throw fileError(where, key, kind === 'positive' ? 'a finite number greater than 0' : 'a positive integer', describeValue(v));
}

/** ropeSpecFromHfConfig's RopeSpecError re-labelled (same message): one error type out of here. */
function readRope(raw: Record<string, unknown>, where: string): RopeSpec {
  try {
    return ropeSpecFromHfConfig(raw, { where });
  } catch (e) {
    if (e instanceof RopeSpecError) throw new ModelFileError(e.message, where, e.field);
    throw e;
  }
}

function optionalTokenId(where: string, raw: Record<string, unknown>, key: string, vocab: number): number | null {
  let v = raw[key];
  if (v == null) return null;
  if (Array.isArray(v) && v.length > 0) v = v[0];
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) >= vocab) {
    throw fileError(where, key, `null, or an integer in [0, ${vocab}) (or a list of them)`, describeValue(raw[key]));
  }
  return v as number;
}

/**
 * Validates a parsed config.json.
 * @param where prefixes every message (default `config.json`).
 * @throws {ModelFileError} for any invalid field (RoPE ones with ropeSpecFromHfConfig's message).
 */
export function parseModelConfig(json: unknown, where = 'config.json'): ModelConfig {
  if (!isObject(json)) throw fileError(where, 'config', 'a JSON object', describeValue(json));
  const raw = structuredClone(json);
  const accepted = Object.keys(ARCHITECTURES).map((a) => JSON.stringify(a)).join(', ');
  let architecture: 'llama' | 'mistral';
  const archs = raw.architectures;
  if (archs != null) {
    const first: unknown = Array.isArray(archs) ? archs[0] : archs;
    if (!Array.isArray(archs) || typeof first !== 'string' || !Object.hasOwn(ARCHITECTURES, first)) {
      throw fileError(where, 'architectures[0]', `one of ${accepted}`, describeValue(first));
    }
    architecture = ARCHITECTURES[first as keyof typeof ARCHITECTURES];
  } else if (raw.model_type === 'llama' || raw.model_type === 'mistral') {
    architecture = raw.model_type;
  } else {
    throw fileError(where, 'architectures', `one of ${accepted} (or model_type "llama" or "mistral")`, describeValue(archs));
  }

  const vocabSize = num(where, raw, 'vocab_size', 'positiveInteger');
  const hiddenSize = num(where, raw, 'hidden_size', 'positiveInteger');
  const intermediateSize = num(where, raw, 'intermediate_size', 'positiveInteger');
  const numLayers = num(where, raw, 'num_hidden_layers', 'positiveInteger', MAX_LAYERS);
  const numHeads = num(where, raw, 'num_attention_heads', 'positiveInteger');
  const numKvHeads = raw.num_key_value_heads == null ? numHeads : num(where, raw, 'num_key_value_heads', 'positiveInteger');
  if (numHeads % numKvHeads !== 0) {
    throw fileError(where, 'num_key_value_heads', `a divisor of num_attention_heads (${numHeads})`, describeValue(numKvHeads));
  }
  // HF reads `head_dim or hidden_size // num_attention_heads`: null and 0 both mean derived.
  let headDim: number;
  if (raw.head_dim != null && raw.head_dim !== 0) {
    headDim = num(where, raw, 'head_dim', 'positiveInteger');
  } else {
    if (hiddenSize % numHeads !== 0) {
      throw fileError(where, 'num_attention_heads', `a divisor of hidden_size (${hiddenSize}) when head_dim is absent`, describeValue(numHeads));
    }
    headDim = hiddenSize / numHeads;
  }
  if (numHeads * headDim > MAX_DIM) {
    throw fileError(where, 'head_dim', `num_attention_heads x head_dim at most ${MAX_DIM}`, describeValue(headDim));
  }
  if (raw.hidden_act != null && raw.hidden_act !== 'silu') {
    throw fileError(where, 'hidden_act', '"silu" (the only MLP activation the runtime implements)', describeValue(raw.hidden_act));
  }
  // Biased projections would leave bias tensors unread and the outputs silently wrong.
  for (const key of ['attention_bias', 'mlp_bias']) {
    if (raw[key] != null && raw[key] !== false) throw fileError(where, key, 'false (the runtime has no projection biases)', describeValue(raw[key]));
  }
  const rmsNormEps = raw.rms_norm_eps == null ? 1e-6 : num(where, raw, 'rms_norm_eps', 'positive');
  const maxPositionEmbeddings = num(where, raw, 'max_position_embeddings', 'positiveInteger');
  const topOriginal = raw.original_max_position_embeddings == null ? undefined : num(where, raw, 'original_max_position_embeddings', 'positiveInteger');
  const rope = readRope(raw, where);
  // Windows read from rope_scaling (or implied by its factor) get the same int32 bound.
  if (rope.originalLength > MAX_DIM) {
    throw fileError(where, 'rope_scaling.original_max_position_embeddings', `a positive integer at most ${MAX_DIM}`, describeValue(rope.originalLength));
  }
  if (rope.length > MAX_DIM) {
    throw fileError(where, 'rope_scaling.factor', `a factor giving a window of at most ${MAX_DIM} positions`, describeValue((raw.rope_scaling as Record<string, unknown> | null)?.factor));
  }
  const originalMaxPositionEmbeddings = topOriginal ?? rope.originalLength;
  let slidingWindow: number | null = null;
  if (architecture === 'mistral' && raw.sliding_window != null) slidingWindow = num(where, raw, 'sliding_window', 'positiveInteger');
  const tie = raw.tie_word_embeddings ?? false;
  if (typeof tie !== 'boolean') throw fileError(where, 'tie_word_embeddings', 'a boolean', describeValue(tie));
  const dtypeKey = raw.torch_dtype != null ? 'torch_dtype' : 'dtype';
  const dtype = raw[dtypeKey] ?? 'float32';
  if (typeof dtype !== 'string' || !(DTYPES as readonly string[]).includes(dtype)) {
    throw fileError(where, dtypeKey, `one of ${DTYPES.map((d) => JSON.stringify(d)).join(', ')}`, describeValue(dtype));
  }
  return {
    architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, rmsNormEps,
    ropeTheta: rope.base,
    maxPositionEmbeddings, originalMaxPositionEmbeddings, slidingWindow,
    tieWordEmbeddings: tie,
    torchDtype: dtype as ModelConfig['torchDtype'],
    bosTokenId: optionalTokenId(where, raw, 'bos_token_id', vocabSize),
    eosTokenId: optionalTokenId(where, raw, 'eos_token_id', vocabSize),
    rope, raw,
  };
}

/** Reads a model directory's JSON file (bounded size); `undefined` when it does not exist. */
export function readModelJson(file: string, where: string = path.basename(file)): unknown {
  return readJsonFile(file, { where, error: (message, field) => new ModelFileError(message, where, field) });
}

/**
 * Reads and validates `dir/config.json`.
 * @throws {ModelFileError} when it is missing or invalid.
 */
export function readModelConfig(dir: string): ModelConfig {
  const json = readModelJson(path.join(dir, 'config.json'));
  if (json === undefined) throw new ModelFileError(`config.json: no config.json in ${dir}`, 'config.json', 'file');
  return parseModelConfig(json, 'config.json');
}

/**
 * config.json for `config`, RoPE fields from `ropeOverride` (an extended model) or config.rope,
 * written through hfConfigPatchFromSpec (which may rewrite max_position_embeddings into HF's form
 * for the method: N, or L for dynamic). Fields we do not model are kept from `raw`; stale RoPE
 * keys (original_max_position_embeddings, v5's rope_parameters) are dropped so HF reads only ours.
 * @throws {TypeError} when ropeOverride's headDim is not the model's.
 */
export function modelConfigToJson(config: ModelConfig, ropeOverride?: RopeSpec): Record<string, unknown> {
  const rope = ropeOverride ?? config.rope;
  if (rope.headDim !== config.rope.headDim) {
    throw new TypeError(`Expected headDim ${config.rope.headDim} (the model's rotary dims) for ropeOverride.headDim but received ${describeValue(rope.headDim)}`);
  }
  const out: Record<string, unknown> = structuredClone(config.raw);
  delete out.original_max_position_embeddings;
  delete out.rope_parameters;
  const arch = config.architecture === 'llama' ? 'LlamaForCausalLM' : 'MistralForCausalLM';
  out.architectures = [arch];
  out.model_type = config.architecture;
  out.vocab_size = config.vocabSize;
  out.hidden_size = config.hiddenSize;
  out.intermediate_size = config.intermediateSize;
  out.num_hidden_layers = config.numLayers;
  out.num_attention_heads = config.numHeads;
  out.num_key_value_heads = config.numKvHeads;
  if (out.head_dim != null || config.headDim * config.numHeads !== config.hiddenSize) out.head_dim = config.headDim;
  out.rms_norm_eps = config.rmsNormEps;
  if (config.architecture === 'mistral') out.sliding_window = config.slidingWindow;
  out.tie_word_embeddings = config.tieWordEmbeddings;
  if ('dtype' in out && !('torch_dtype' in out)) out.dtype = config.torchDtype;
  else out.torch_dtype = config.torchDtype;
  // Keep a list of eos ids when its first one is still ours (Llama 3 lists several).
  if (!(Array.isArray(out.eos_token_id) && out.eos_token_id[0] === config.eosTokenId)) out.eos_token_id = config.eosTokenId;
  out.bos_token_id = config.bosTokenId;
  Object.assign(out, hfConfigPatchFromSpec(rope));
  return out;
}

