/**
 * Finds and validates every weight of an HF LLaMA/Mistral checkpoint directory, reading only
 * headers. The result is the table the native side mmaps: absolute file, offset, byte length,
 * dtype and shape of each tensor, in the order of expectedTensorShapes. Nothing here trusts the
 * files: shard names cannot leave the directory, and every tensor must have the exact shape the
 * config implies.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { NativeTensorLocation } from '../native';
import { describeValue } from '../common/errors';
import { readModelJson, readModelConfig, type ModelConfig } from './config';
import { expectedTensorShapes } from './tensor-shapes';
import { fileError, ModelFileError, readSafetensorsHeader, type SafetensorsEntry } from './safetensors';
import { isObject } from '../common/objects';

/** Where one weight lies (the native loader's input type). */
export type TensorLocation = NativeTensorLocation;

/** A validated checkpoint. */
export interface CheckpointIndex {
  /** The real path of the model directory. */
  dir: string;
  config: ModelConfig;
  /** Every expected weight, in the order of expectedTensorShapes. */
  tensors: TensorLocation[];
  /** Tensors in the files that the model does not use (sorted); `*.rotary_emb.inv_freq` is left out. */
  ignored: string[];
}

const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);
/** How many missing names an error lists before "and N more". */
const LIST_MAX = 5;

const exists = (p: string): boolean => fs.existsSync(p);

/**
 * The directories a weight file may really live in: the model directory and, for a snapshot of
 * the Hugging Face cache (`models--org--name/snapshots/<rev>`, whose files are symlinks to
 * `../../blobs/<hash>`), that repository's `blobs` directory.
 */
function allowedRoots(dir: string): string[] {
  const roots = [dir];
  if (path.basename(path.dirname(dir)) === 'snapshots') {
    const blobs = path.join(path.dirname(path.dirname(dir)), 'blobs');
    if (fs.existsSync(blobs)) roots.push(fs.realpathSync(blobs));
  }
  return roots;
}

/**
 * Resolves a weight file name inside `dir` (already a real path), refusing anything that could
 * read outside it: absolute paths, drive letters, `..`, NUL bytes, and symlinks whose target
 * (after realpath) leaves the allowed roots. `field` names where the name came from.
 */
function resolveWeightFile(dir: string, name: unknown, field: string, from: string): string {
  const bad = (why: string): ModelFileError => fileError(from, field, `a file name inside the model directory (${why})`, describeValue(name));
  if (typeof name !== 'string' || name.length === 0) throw bad('a non-empty string');
  if (name.includes('\0')) throw bad('no NUL bytes');
  if (path.isAbsolute(name) || path.win32.isAbsolute(name) || /^[A-Za-z]:/.test(name)) throw bad('not an absolute path');
  if (name.split(/[\\/]/).some((seg) => seg === '..')) throw bad('no ".." segments');
  let real: string;
  try {
    real = fs.realpathSync(path.join(dir, name));
  } catch {
    throw new ModelFileError(`${name}: no such file in ${dir} (named by ${from} for ${field})`, name, field);
  }
  if (!allowedRoots(dir).some((root) => real.startsWith(root + path.sep))) throw bad(`it resolves to ${real}`);
  if (!fs.statSync(real).isFile()) throw fileError(name, 'file', 'a regular file', real);
  return real;
}

/** Lists names the way every "missing" message does: the first few, then a count. */
function listNames(names: string[]): string {
  const shown = names.slice(0, LIST_MAX).join(', ');
  return names.length > LIST_MAX ? `${shown} (and ${names.length - LIST_MAX} more)` : shown;
}

/** Tensor name -> its header entry, the file's name as messages give it, and its real path. */
type Table = Map<string, { entry: SafetensorsEntry; where: string; file: string }>;

function readSingle(dir: string): { table: Table; extra: string[]; where: string } {
  const file = resolveWeightFile(dir, SINGLE, SINGLE, dir);
  const header = readSafetensorsHeader(file, SINGLE);
  const table: Table = new Map(header.entries.map((entry) => [entry.name, { entry, where: SINGLE, file }]));
  return { table, extra: [], where: SINGLE };
}

function readSharded(dir: string): { table: Table; extra: string[]; where: string } {
  const json = readModelJson(path.join(dir, INDEX), INDEX);
  if (!isObject(json)) throw fileError(INDEX, INDEX, 'a JSON object {"metadata", "weight_map"}', describeValue(json));
  const map = json.weight_map;
  if (!isObject(map)) throw fileError(INDEX, 'weight_map', 'an object {tensor name: shard file}', describeValue(map));
  // Object.entries, never map[name]: a tensor called "constructor" must not find a prototype.
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string') throw fileError(INDEX, `weight_map[${JSON.stringify(name)}]`, 'a shard file name', describeValue(shard));
    const list = byShard.get(shard) ?? [];
    list.push(name);
    byShard.set(shard, list);
  }
  const mapped = new Map(Object.entries(map) as [string, string][]);
  // Every name is checked before any file is opened, every header before the cross-checks.
  const files = [...byShard].map(([shard, names]) => ({
    shard, names, file: resolveWeightFile(dir, shard, `weight_map[${JSON.stringify(names[0])}]`, INDEX),
  }));
  const headers = files.map((f) => ({ ...f, header: readSafetensorsHeader(f.file, f.shard) }));
  const table: Table = new Map();
  const extra: string[] = [];
  for (const { shard, names, file, header } of headers) {
    const inShard = new Map(header.entries.map((e) => [e.name, e]));
    for (const name of names) {
      const entry = inShard.get(name);
      if (!entry) throw fileError(shard, JSON.stringify(name), `the tensor ${INDEX} maps to this shard`, 'no such tensor');
      table.set(name, { entry, where: shard, file });
    }
  }
  for (const { shard, header } of headers) {
    for (const e of header.entries) {
      const owner = mapped.get(e.name);
      if (owner === undefined) extra.push(e.name);
      else if (owner !== shard) {
        throw fileError(shard, JSON.stringify(e.name), `no tensor mapped to ${JSON.stringify(owner)} by ${INDEX}`, 'a copy in this shard');
      }
    }
  }
  return { table, extra, where: INDEX };
}

/**
 * Reads `dir`: config.json plus `model.safetensors` (single file, preferred as transformers
 * does) or `model.safetensors.index.json` and its shards. Only headers are read.
 * @throws {ModelFileError} for missing files, PyTorch-only checkpoints, unsafe shard names,
 * malformed or truncated files, and missing, misshapen or non-float tensors.
 */
export function readCheckpoint(dir: string): CheckpointIndex {
  let real: string;
  try {
    real = fs.realpathSync(path.resolve(dir));
  } catch {
    throw new ModelFileError(`${dir}: no such directory`, dir, 'dir');
  }
  if (!fs.statSync(real).isDirectory()) throw new ModelFileError(`${dir}: not a directory`, dir, 'dir');
  const config = readModelConfig(real);
  let read: { table: Table; extra: string[]; where: string };
  if (exists(path.join(real, SINGLE))) read = readSingle(real);
  else if (exists(path.join(real, INDEX))) read = readSharded(real);
  else if (exists(path.join(real, 'pytorch_model.bin')) || exists(path.join(real, 'pytorch_model.bin.index.json'))) {
    throw new ModelFileError(
      `${dir}: holds pytorch_model.bin, but longrope reads safetensors only (pickle files can run code). Convert it with ` +
        `python -c "from transformers import AutoModelForCausalLM as M; M.from_pretrained('${dir}').save_pretrained('OUT', safe_serialization=True)" ` +
        'and copy the tokenizer files along',
      dir, 'weights');
  } else {
    throw new ModelFileError(`${SINGLE}: no ${SINGLE} or ${INDEX} in ${dir}`, SINGLE, 'weights');
  }
  const { table, where } = read;
  const expected = expectedTensorShapes(config);
  const tensors: TensorLocation[] = [];
  const missing: string[] = [];
  for (const [name, shape] of expected) {
    const found = table.get(name);
    if (!found) {
      missing.push(name);
      continue;
    }
    const { entry } = found;
    if (!FLOAT_DTYPES.has(entry.dtype)) throw fileError(found.where, name, 'dtype F32, F16 or BF16', describeValue(entry.dtype));
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
      throw fileError(found.where, name, `shape [${shape.join(', ')}]`, `[${entry.shape.join(', ')}]`);
    }
    tensors.push({
      name, dtype: entry.dtype as TensorLocation['dtype'], shape: entry.shape.slice(),
      file: found.file, offset: entry.begin, byteLength: entry.end - entry.begin,
    });
  }
  if (missing.length > 0) {
    const model = `${config.numLayers}-layer ${config.architecture}${config.tieWordEmbeddings ? ' with tied embeddings' : ''}`;
    throw fileError(where, 'weights', `every tensor of a ${model}`, `${missing.length} missing: ${listNames(missing)}`);
  }
  const ignored = [...read.extra, ...table.keys()].filter((n) => !expected.has(n) && !n.endsWith('.rotary_emb.inv_freq'));
  return { dir: real, config, tensors, ignored: [...new Set(ignored)].sort() };
}
