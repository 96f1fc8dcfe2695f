/**
 * Flag parsers shared by the commands: `--rope` with `--factor`, numbers and integer lists.
 * Every error names the flag it came from. (Output helpers live in output.ts.)
 *
 * `--rope` is a method name (`none|linear|ntk|dynamic-ntk|yarn|llama3`, scaled by `--factor s`
 * so the target length is s x the model's original window), or a JSON file holding a RopeSpec
 * (`{"method": ...}`), an HF config with `rope_scaling`, or a bare `rope_scaling` object.
 * Absent: the model's own config.rope.
 */
import type { Command } from 'commander';
import fs from 'fs';
import path from 'path';

import { RopeSpecError, ropeSpecFromHfConfig, validateRopeSpec, type RopeSpec } from '../rope';
import { describeValue, InputError } from '../common/errors';
import { readJsonFile } from '../common/files';
import { isObject } from '../common/objects';

/** Method names `--rope` accepts without a file. */
export const ROPE_ARG_METHODS = ['none', 'linear', 'ntk', 'dynamic-ntk', 'yarn', 'llama3'] as const;

/** A positive finite number from a flag value. */
export function parsePositiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new Error(`Expected a finite number greater than 0 for ${flag} but received ${describeValue(value)}`);
  }
  return n;
}

/** One of `choices`, exactly as written. */
export function parseChoice<T extends string>(value: string, flag: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new InputError(`Expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')} for ${flag} but received ${describeValue(value)}`, flag);
}

/** A positive integer from a flag value (`k` suffix = x1024, so `4k` is 4096). */
export function parsePositiveInt(value: string, flag: string): number {
  const m = /^\s*(\d+)(k?)\s*$/i.exec(value);
  const n = m ? Number(m[1]) * (m[2] ? 1024 : 1) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`Expected a positive integer for ${flag} but received ${describeValue(value)}`);
  return n;
}

/** A non-negative integer from a flag value. */
export function parseNonNegativeInt(value: string, flag: string): number {
  if (!/^\s*\d+\s*$/.test(value)) throw new Error(`Expected a non-negative integer for ${flag} but received ${describeValue(value)}`);
  return Number(value);
}

/** A comma-separated list of positive integers (`256,512,4k`). */
export function parseLengths(value: string, flag = '--lengths'): number[] {
  const parts = value.split(',').filter((s) => s.trim() !== '');
  if (parts.length === 0) throw new Error(`Expected a comma-separated list of lengths for ${flag} but received ${describeValue(value)}`);
  return parts.map((p) => parsePositiveInt(p, flag));
}

function fromFile(file: string, model: RopeSpec): RopeSpec {
  const where = `--rope ${file}`;
  const json = readJsonFile(file, { where });
  if (!isObject(json)) throw new Error(`${where}: Expected a JSON object but received ${describeValue(json)}`);
  if ('method' in json) {
    const { headDim, base, originalLength, length } = model;
    return validateRopeSpec({ headDim, base, originalLength, length, ...json }, where, { searchConstraints: false });
  }
  const defaults = { rope_theta: model.base, max_position_embeddings: model.originalLength };
  let config: Record<string, unknown>;
  if ('rope_scaling' in json || 'rope_parameters' in json) config = { ...defaults, ...json };
  else if ('rope_type' in json || 'type' in json) config = { ...defaults, rope_scaling: json };
  else {
    throw new Error(`${where}: Expected a RopeSpec (with "method"), a config with "rope_scaling", or a rope_scaling object (with "rope_type") but received an object with keys ${Object.keys(json).join(', ') || '(none)'}`);
  }
  // The rotary dims are the model's whatever the file says about heads.
  return ropeSpecFromHfConfig(config, { where, headDim: model.headDim });
}

/** Adds the shared `--rope` / `--factor` options that {@link parseRopeArg} reads. */
export function withRopeOptions(command: Command): Command {
  return command
    .option('--rope <spec>', 'none | linear | ntk | dynamic-ntk | yarn | llama3 (with --factor), or a JSON file; default the model\'s')
    .option('--factor <s>', 'extension ratio for a --rope method: target = s x original window');
}

/**
 * The RopeSpec that `--rope value [--factor s]` asks for, given the model's own spec
 * (head dims, base and original window come from it).
 */
export function parseRopeArg(value: string | undefined, factor: string | undefined, model: RopeSpec): RopeSpec {
  if (value === undefined) {
    if (factor !== undefined) throw new Error('Expected a method for --rope (--factor scales it) but received nothing');
    return model;
  }
  try {
    if ((ROPE_ARG_METHODS as readonly string[]).includes(value)) {
      const L = model.originalLength;
      const common = { headDim: model.headDim, base: model.base, originalLength: L };
      if (value === 'none') {
        if (factor !== undefined) throw new Error('Expected no --factor with --rope none but received one');
        return validateRopeSpec({ method: 'none', ...common, length: L }, '--rope');
      }
      if (factor === undefined) throw new Error(`Expected a scale factor for --factor (needed by --rope ${value}) but received nothing`);
      const s = parsePositiveNumber(factor, '--factor');
      return validateRopeSpec({ method: value, ...common, length: Math.max(1, Math.round(s * L)), factor: s }, '--rope');
    }
    if (value === 'longrope') throw new Error('Expected a JSON file for --rope longrope (its factors come from a file) but received the bare name');
    if (!fs.existsSync(value)) {
      throw new Error(`Expected one of ${ROPE_ARG_METHODS.join(', ')} or a JSON file for --rope but received ${describeValue(value)}`);
    }
    if (factor !== undefined) throw new Error('Expected no --factor with a --rope file (the file gives the scaling) but received one');
    return fromFile(value, model);
  } catch (e) {
    if (e instanceof RopeSpecError) throw new Error(e.message.startsWith('--rope') ? e.message : `--rope: ${e.message}`);
    throw e;
  }
}

/** A short label for result files: `yarn x8`, `none`, a file's base name, or `model`. */
export function ropeLabel(value: string | undefined, spec: RopeSpec): string {
  if (value === undefined) return 'model';
  if ((ROPE_ARG_METHODS as readonly string[]).includes(value)) return spec.method === 'none' ? 'none' : `${spec.method} x${spec.factor}`;
  return path.basename(value).replace(/\.json$/i, '');
}
