/**
 * Exports a model with a RoPE spec as a Hugging Face directory that transformers, vLLM and
 * llama.cpp load: the weights copied as they are (no reload, no conversion), the tokenizer files,
 * and config.json with `rope_scaling: {rope_type: longrope, short_factor, long_factor,
 * attention_factor}`, `max_position_embeddings` (the target) and `original_max_position_embeddings`.
 * The attention factor is written explicitly (transformers would otherwise derive its own from
 * `factor`); nHat > 0, which no consumer implements, is kept as `n_hat` with a warning.
 */
import fs from 'fs';
import path from 'path';

import { checkOutputPath, writeJsonAtomic } from '../common/files';
import { ropeAttentionFactor } from '../rope/methods';
import type { RopeSpec } from '../rope/types';
import { readCheckpoint } from './checkpoint';
import { modelConfigToJson } from './config';

/** Files copied next to the weights when present. */
const SIDE_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'tokenizer.model'];

/** What {@link exportModel} did. */
export interface ExportResult {
  dir: string;
  config: Record<string, unknown>;
  files: string[];
  warnings: string[];
}

/**
 * Writes `out` (a new or empty folder): the checkpoint of `modelDir` with `rope` in its config.
 * `provenance` (e.g. the search that found the factors) is stored under `longrope_provenance`.
 */
export function exportModel(modelDir: string, rope: RopeSpec, out: string, provenance?: Record<string, unknown>): ExportResult {
  checkOutputPath(out, '--out', 'dir');
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0) {
    throw new Error(`Expected an empty or new folder for --out but received ${JSON.stringify(out)}, which holds files (nothing was overwritten)`);
  }
  const checkpoint = readCheckpoint(modelDir);
  const warnings: string[] = [];
  const explicit: RopeSpec = rope.method === 'longrope' || rope.method === 'yarn' ? { ...rope, attentionFactor: ropeAttentionFactor(rope) } : rope;
  if (rope.method === 'longrope' && (rope.nHat ?? 0) > 0) {
    warnings.push(`nHat = ${rope.nHat} start tokens cannot be expressed in rope_scaling: it is kept as rope_scaling.n_hat, ` +
      'which transformers, vLLM and llama.cpp ignore (they will rotate the first tokens with the scaled frequencies)');
  }
  const config = { ...modelConfigToJson(checkpoint.config, explicit), ...(provenance ? { longrope_provenance: provenance } : {}) };
  fs.mkdirSync(out, { recursive: true });
  const weightFiles = [...new Set(checkpoint.tensors.map((t) => t.file))];
  const index = path.join(checkpoint.dir, 'model.safetensors.index.json');
  const files = [...weightFiles, ...(fs.existsSync(index) ? [index] : []), ...SIDE_FILES.map((f) => path.join(checkpoint.dir, f)).filter((f) => fs.existsSync(f))];
  for (const f of files) fs.copyFileSync(f, path.join(out, path.basename(f)));
  writeJsonAtomic(path.join(out, 'config.json'), config);
  return { dir: out, config, files: [...files.map((f) => path.basename(f)), 'config.json'], warnings };
}
