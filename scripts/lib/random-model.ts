/**
 * Writes a LLaMA-architecture model with random weights as a Hugging Face directory
 * (config.json + model.safetensors, fp32). For benchmarks and tests that need a model of a given
 * size but not a trained one.
 */
import fs from 'fs';
import path from 'path';

import { parseModelConfig } from '../../src/model/config';
import { expectedTensorShapes } from '../../src/model/tensor-shapes';
import { writeSafetensors } from '../../src/model/safetensors';

/** Sizes of the random model; defaults are the bench's 4-layer d=256 model. */
export interface RandomModelSizes {
  vocabSize?: number;
  hiddenSize?: number;
  intermediateSize?: number;
  numLayers?: number;
  numHeads?: number;
  numKvHeads?: number;
  maxPositionEmbeddings?: number;
  seed?: number;
  /** Storage dtype of the weights (default F32). */
  dtype?: 'F32' | 'BF16';
}

/** float32 -> bfloat16 bits, round to nearest even (as torch's cast). */
function toBf16(x: Float32Array): Uint8Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < u.length; i++) out[i] = (u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16;
  return new Uint8Array(out.buffer);
}

/** Deterministic uniform floats with the variance of N(0, std^2) (mulberry32). */
function fill(n: number, std: number, seed: number, mean = 0): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  const scale = std * Math.sqrt(12);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = mean + ((((t ^ (t >>> 14)) >>> 0) / 4294967296) - 0.5) * scale;
  }
  return out;
}

/** Writes the model into `dir` (created) and returns its config.json object. */
export function writeRandomModel(dir: string, sizes: RandomModelSizes = {}): Record<string, unknown> {
  const hidden = sizes.hiddenSize ?? 256;
  const config: Record<string, unknown> = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: sizes.vocabSize ?? 258,
    hidden_size: hidden,
    intermediate_size: sizes.intermediateSize ?? 704,
    num_hidden_layers: sizes.numLayers ?? 4,
    num_attention_heads: sizes.numHeads ?? 4,
    num_key_value_heads: sizes.numKvHeads ?? sizes.numHeads ?? 4,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: sizes.maxPositionEmbeddings ?? 256,
    tie_word_embeddings: false,
    torch_dtype: sizes.dtype === 'BF16' ? 'bfloat16' : 'float32',
    bos_token_id: 256,
    eos_token_id: 257,
    hidden_act: 'silu',
  };
  const parsed = parseModelConfig(config);
  let seed = sizes.seed ?? 1;
  const tensors = [...expectedTensorShapes(parsed)].map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const isNorm = name.endsWith('norm.weight');
    const data = isNorm ? fill(n, 0.05, seed++, 1) : fill(n, 0.02, seed++);
    return sizes.dtype === 'BF16'
      ? { name, dtype: 'BF16' as const, shape, data: toBf16(data) }
      : { name, dtype: 'F32' as const, shape, data: new Uint8Array(data.buffer) };
  });
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return config;
}
