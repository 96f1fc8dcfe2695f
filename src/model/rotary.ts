/**
 * Applies rotary position embeddings through the native fused op (one pass over q and k).
 * The model runtime uses the same op inside its forward; this entry point works on host arrays,
 * for tests, tools and users who want RoPE alone.
 */
import { describeValue } from '../common/errors';
import type { RopeTables } from '../rope/types';
import { native, type HostTensor } from '../native';
import { nativeRopeParams } from './rope-params';

/** Where positions start and how pairs are laid out. */
export interface RotaryOptions {
  /** Position of the first token (chunks, KV cache): positions are offset, offset+1, ... Default 0. */
  positionOffset?: number;
  /** Explicit absolute position of every token (sequence shards); overrides positionOffset. */
  positions?: Int32Array;
  /** 'half' (Hugging Face rotate_half: dim i pairs with i + d/2, the default) or 'interleaved'. */
  layout?: 'half' | 'interleaved';
  /** Compute dtype: inputs are rounded to it, outputs come back as float32 of its values. */
  dtype?: 'float32' | 'bfloat16';
  /** 'cpu' (default) or 'cuda[:N]' when the addon was built with CUDA and a GPU is present. */
  device?: string;
  /** 'fused' (default) or 'naive': the plain-libtorch rotate_half reference, for checking. */
  impl?: 'fused' | 'naive';
}

/** Rotated q and k (same shapes as given). */
export interface RotaryResult {
  q: HostTensor;
  k: HostTensor;
}

function expected(field: string, what: string, value: unknown): TypeError {
  return new TypeError(`Expected ${what} for ${field} but received ${describeValue(value)}`);
}

function checkTensor(t: HostTensor, field: string): void {
  if (!t || !(t.data instanceof Float32Array)) throw expected(`${field}.data`, 'a Float32Array', t?.data);
  if (!Array.isArray(t.shape) || t.shape.length !== 4 || !t.shape.every((n) => Number.isInteger(n) && n > 0)) {
    throw expected(`${field}.shape`, '[batch, seq, heads, headDim] of positive integers', t.shape);
  }
  const numel = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== numel) {
    throw new TypeError(`Expected a Float32Array of ${numel} elements for ${field}.data but received one of ${t.data.length}`);
  }
}

function checkInputs(q: HostTensor, k: HostTensor, tables: RopeTables, options: RotaryOptions): void {
  checkTensor(q, 'q');
  checkTensor(k, 'k');
  const [b, s, , d] = q.shape;
  if (k.shape[0] !== b || k.shape[1] !== s || k.shape[3] !== d) {
    throw expected('k.shape', `[${b}, ${s}, kvHeads, ${d}] (batch, seq and headDim of q)`, k.shape);
  }
  if (!(tables?.invFreq instanceof Float32Array)) throw expected('tables.invFreq', 'a Float32Array', tables?.invFreq);
  if (2 * tables.invFreq.length > d) throw expected('tables.invFreq', `at most headDim/2 = ${d / 2} frequencies`, tables.invFreq.length);
  if (options.positions !== undefined) {
    if (!(options.positions instanceof Int32Array) || options.positions.length !== s) {
      throw expected('options.positions', `an Int32Array of ${s} positions`, options.positions);
    }
  }
  const offset = options.positionOffset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw expected('options.positionOffset', 'a non-negative integer', offset);
}

/** Rotates q [batch, seq, heads, headDim] and k [batch, seq, kvHeads, headDim] (GQA allowed). */
export async function applyRotary(
  q: HostTensor,
  k: HostTensor,
  tables: RopeTables,
  options: RotaryOptions = {},
): Promise<RotaryResult> {
  checkInputs(q, k, tables, options);
  const r = await native().ropeApply({ ...options, ...nativeRopeParams(tables, undefined, 'tables'), q, k });
  return { q: { data: r.q, shape: q.shape }, k: { data: r.k, shape: k.shape } };
}

/**
 * Gradients of a loss with respect to q and k, given the loss's gradients at the rotary outputs
 * (the backward pass the trainer uses, exposed for checking).
 */
export async function rotaryGradients(
  q: HostTensor,
  k: HostTensor,
  tables: RopeTables,
  gradOutQ: Float32Array,
  gradOutK: Float32Array,
  options: RotaryOptions = {},
): Promise<{ gradQ: Float32Array; gradK: Float32Array }> {
  checkInputs(q, k, tables, options);
  checkTensor({ data: gradOutQ, shape: q.shape }, 'gradOutQ');
  checkTensor({ data: gradOutK, shape: k.shape }, 'gradOutK');
  const r = await native().ropeApply({ ...options, ...nativeRopeParams(tables, undefined, 'tables'), q, k, gradQ: gradOutQ, gradK: gradOutK });
  if (!r.gradQ || !r.gradK) throw new Error('native ropeApply returned no gradients');
  return { gradQ: r.gradQ, gradK: r.gradK };
}
