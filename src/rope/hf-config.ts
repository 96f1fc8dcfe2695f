/**
 * Reading and writing the Hugging Face `config.json` RoPE fields (`rope_theta`,
 * `max_position_embeddings`, `original_max_position_embeddings`, `rope_scaling`), the format
 * transformers, vLLM and llama.cpp read. Reading follows transformers' `modeling_rope_utils.py`
 * so a config gives the tables HF would build from it.
 */
import { checkNumber, describeValue, ropeError } from './errors';
import { ntkScaledBase } from './methods';
import type { RopeMethod, RopeSpec } from './types';
import { normalizeRopeSpec, validateRopeSpec, YARN_DEFAULTS, type RopeFieldNames } from './validate';
import { isObject } from '../common/objects';

/** HF `rope_type` spellings we read; `su` is Phi-3's legacy name of `longrope`. */
export const HF_ROPE_TYPES = ['default', 'linear', 'dynamic', 'yarn', 'longrope', 'su', 'llama3'] as const;

const METHOD_OF_TYPE: Record<(typeof HF_ROPE_TYPES)[number], RopeMethod> = {
  default: 'none',
  linear: 'linear',
  dynamic: 'dynamic-ntk',
  yarn: 'yarn',
  longrope: 'longrope',
  su: 'longrope',
  llama3: 'llama3',
};

/** Options for {@link ropeSpecFromHfConfig}. */
export interface HfReadOptions {
  /** Rotary dims d, overriding head_dim (or hidden_size / num_attention_heads) x partial_rotary_factor. */
  headDim?: number;
  /** Target length N, overriding what the config implies. */
  length?: number;
  /** Message prefix, e.g. the config's file name. */
  where?: string;
  /** Enforce the search constraints on longrope factors (default false: published factors are used as they are). */
  searchConstraints?: boolean;
}

/** The RoPE fields of an HF config, ready to merge into config.json. */
export interface HfConfigPatch {
  rope_theta: number;
  max_position_embeddings: number;
  original_max_position_embeddings?: number;
  rope_scaling: Record<string, unknown> | null;
}

/**
 * The RopeSpec an HF config describes. Windows, as transformers reads them: llama3, yarn and
 * longrope take L from a top-level `original_max_position_embeddings` (Phi-3), else from
 * `rope_scaling`, else `max_position_embeddings`; dynamic NTK always uses
 * `max_position_embeddings` as L. N is `max_position_embeddings` when the config records a
 * longer extended window, else round(L x factor) (Qwen-style yarn, dynamic, Vicuna-style
 * linear configs keep max_position_embeddings at the pretrained window). `rope_scaling` null or
 * absent means no scaling; transformers v5's `rope_parameters` is read the same way.
 */
export function ropeSpecFromHfConfig(config: Record<string, unknown>, opts: HfReadOptions = {}): RopeSpec {
  const where = opts.where;
  if (!isObject(config)) throw ropeError(where, 'config', 'an object', describeValue(config));
  const useParams = config.rope_scaling == null && isObject(config.rope_parameters);
  const key = useParams ? 'rope_parameters' : 'rope_scaling';
  const rsRaw = useParams ? config.rope_parameters : config.rope_scaling;
  if (rsRaw != null && !isObject(rsRaw)) throw ropeError(where, key, 'an object or null', describeValue(rsRaw));
  const rs: Record<string, unknown> = rsRaw ?? {};
  const typeKey = 'rope_type' in rs ? 'rope_type' : 'type' in rs ? 'type' : undefined;
  const type = typeKey === undefined ? 'default' : rs[typeKey];
  if (typeof type !== 'string' || !(type in METHOD_OF_TYPE)) {
    const list = HF_ROPE_TYPES.map((t) => JSON.stringify(t)).join(', ');
    throw ropeError(where, `${key}.${typeKey ?? 'rope_type'}`, `one of ${list}`, describeValue(type));
  }
  const method = METHOD_OF_TYPE[type as keyof typeof METHOD_OF_TYPE];
  const field = (k: string): string => `${key}.${k}`;

  const names: RopeFieldNames = {
    spec: 'config',
    method: `${key}.${typeKey ?? 'rope_type'}`,
    base: 'rope_theta',
    factor: field('factor'),
    attentionFactor: field('attention_factor'),
    betaFast: field('beta_fast'),
    betaSlow: field('beta_slow'),
    truncate: field('truncate'),
    mscale: field('mscale'),
    mscaleAllDim: field('mscale_all_dim'),
    lowFreqFactor: field('low_freq_factor'),
    highFreqFactor: field('high_freq_factor'),
    longFactors: field('long_factor'),
    shortFactors: field('short_factor'),
    nHat: field('n_hat'),
  };

  // Rotary dims, as HF: int((head_dim or hidden_size // num_attention_heads) * partial_rotary_factor).
  let headDim: unknown = opts.headDim;
  names.headDim = 'headDim';
  if (headDim === undefined) {
    let perHead: number;
    if (config.head_dim != null && config.head_dim !== 0) {
      perHead = checkNumber(config.head_dim, 'positiveInteger', 'head_dim', where);
      names.headDim = 'head_dim';
    } else {
      const hidden = checkNumber(config.hidden_size, 'positiveInteger', 'hidden_size', where);
      const heads = checkNumber(config.num_attention_heads, 'positiveInteger', 'num_attention_heads', where);
      perHead = Math.floor(hidden / heads);
      names.headDim = 'hidden_size / num_attention_heads';
    }
    const prfRaw = config.partial_rotary_factor ?? rs.partial_rotary_factor;
    if (prfRaw !== undefined) {
      const prf = checkNumber(prfRaw, 'positive', 'partial_rotary_factor', where);
      names.headDim = `${names.headDim} x partial_rotary_factor`;
      headDim = Math.trunc(perHead * prf);
    } else headDim = perHead;
  }

  const maxPos = checkNumber(config.max_position_embeddings, 'positiveInteger', 'max_position_embeddings', where);
  const topOrig = config.original_max_position_embeddings;
  const rsOrig = rs.original_max_position_embeddings;
  let L = maxPos;
  names.originalLength = 'max_position_embeddings';
  if (method !== 'dynamic-ntk' && topOrig != null) {
    L = checkNumber(topOrig, 'positiveInteger', 'original_max_position_embeddings', where);
    names.originalLength = 'original_max_position_embeddings';
  } else if (method !== 'dynamic-ntk' && rsOrig != null) {
    L = checkNumber(rsOrig, 'positiveInteger', field('original_max_position_embeddings'), where);
    names.originalLength = field('original_max_position_embeddings');
  }

  const spec: Record<string, unknown> = { method, headDim, base: config.rope_theta ?? rs.rope_theta ?? 10000, originalLength: L };
  // HF requires factor for these; yarn and longrope fall back to max_position_embeddings / L.
  const factorRequired = method === 'linear' || method === 'dynamic-ntk' || method === 'llama3';
  let factor = 1;
  if (factorRequired || rs.factor != null) {
    factor = checkNumber(rs.factor, 'positive', field('factor'), where);
    spec.factor = factor;
  } else if (method !== 'none') factor = maxPos / L;

  if (opts.length !== undefined) {
    spec.length = opts.length;
    names.length = 'length';
  } else if (maxPos > L) {
    spec.length = maxPos;
    names.length = 'max_position_embeddings';
  } else {
    spec.length = Math.max(1, Math.round(L * factor));
    names.length = `${names.originalLength} x ${field('factor')}`;
  }

  const copy = (from: string, to: keyof RopeSpec): void => {
    if (rs[from] != null) spec[to] = rs[from];
  };
  if (method === 'yarn') {
    // HF reads `beta_fast or 32`: 0 and null mean the default.
    if (rs.beta_fast) spec.betaFast = rs.beta_fast;
    if (rs.beta_slow) spec.betaSlow = rs.beta_slow;
    copy('truncate', 'truncate');
    copy('mscale', 'mscale');
    copy('mscale_all_dim', 'mscaleAllDim');
    copy('attention_factor', 'attentionFactor');
  } else if (method === 'llama3') {
    copy('low_freq_factor', 'lowFreqFactor');
    copy('high_freq_factor', 'highFreqFactor');
  } else if (method === 'longrope') {
    spec.longFactors = rs.long_factor;
    copy('short_factor', 'shortFactors');
    copy('attention_factor', 'attentionFactor');
    copy('n_hat', 'nHat');
  }
  // Other types: HF ignores attention_factor, and so do we (the tables must match HF's).
  return normalizeRopeSpec(spec, { where, names, searchConstraints: opts.searchConstraints ?? false });
}

/** Only yarn and longrope carry an attention factor in HF configs. */
function refuseAttentionFactor(spec: RopeSpec, type: string): void {
  if (spec.attentionFactor !== undefined && spec.attentionFactor !== 1) {
    throw ropeError(
      undefined,
      'attentionFactor',
      `no attentionFactor (HF's ${type} RoPE has none; only yarn and longrope carry attention_factor)`,
      describeValue(spec.attentionFactor),
    );
  }
}

/**
 * The config.json RoPE fields for `spec`; {@link ropeSpecFromHfConfig} reads them back to the
 * same tables. Per method: `linear`, `yarn`, `llama3` and `longrope` write `rope_type` with
 * max_position_embeddings = N and L where each consumer looks for it (top level for
 * linear/longrope, as Phi-3 does; inside rope_scaling for yarn/llama3, as DeepSeek and Llama 3.1
 * do). `dynamic-ntk` writes max_position_embeddings = L, because HF's dynamic NTK takes L from
 * there (N is recovered as L x factor). Static `ntk` has no HF rope type: it is written as plain
 * RoPE with rope_theta = base' = base * s^(d/(d-2)) and rope_scaling null. longrope's nHat has no
 * HF key either: it is written as `n_hat` when > 0, which HF ignores (with a warning).
 */
export function hfConfigPatchFromSpec(spec: RopeSpec): HfConfigPatch {
  const s = validateRopeSpec(spec, undefined, { searchConstraints: false });
  const N = s.length;
  const L = s.originalLength;
  const factor = s.factor ?? N / L;
  const withOrig = (patch: HfConfigPatch): HfConfigPatch =>
    L !== N ? { ...patch, original_max_position_embeddings: L } : patch;
  switch (s.method) {
    case 'none':
      refuseAttentionFactor(s, 'default');
      return withOrig({ rope_theta: s.base, max_position_embeddings: N, rope_scaling: null });
    case 'ntk':
      refuseAttentionFactor(s, 'default');
      return withOrig({ rope_theta: ntkScaledBase(s, N), max_position_embeddings: N, rope_scaling: null });
    case 'linear':
      refuseAttentionFactor(s, 'linear');
      return withOrig({ rope_theta: s.base, max_position_embeddings: N, rope_scaling: { rope_type: 'linear', factor } });
    case 'dynamic-ntk':
      refuseAttentionFactor(s, 'dynamic');
      return { rope_theta: s.base, max_position_embeddings: L, rope_scaling: { rope_type: 'dynamic', factor } };
    case 'llama3':
      refuseAttentionFactor(s, 'llama3');
      return {
        rope_theta: s.base,
        max_position_embeddings: N,
        rope_scaling: {
          rope_type: 'llama3',
          factor,
          low_freq_factor: s.lowFreqFactor,
          high_freq_factor: s.highFreqFactor,
          original_max_position_embeddings: L,
        },
      };
    case 'yarn': {
      const rs: Record<string, unknown> = { rope_type: 'yarn', factor, original_max_position_embeddings: L };
      if (s.betaFast !== YARN_DEFAULTS.betaFast) rs.beta_fast = s.betaFast;
      if (s.betaSlow !== YARN_DEFAULTS.betaSlow) rs.beta_slow = s.betaSlow;
      if (s.truncate === false) rs.truncate = false;
      if (s.mscale !== undefined) rs.mscale = s.mscale;
      if (s.mscaleAllDim !== undefined) rs.mscale_all_dim = s.mscaleAllDim;
      if (s.attentionFactor !== undefined) rs.attention_factor = s.attentionFactor;
      return { rope_theta: s.base, max_position_embeddings: N, rope_scaling: rs };
    }
    case 'longrope': {
      const rs: Record<string, unknown> = { rope_type: 'longrope', short_factor: s.shortFactors, long_factor: s.longFactors };
      // Phi-3 omits factor (HF then uses N / L); write it only when it says something else.
      if (s.factor !== undefined && s.factor !== N / L) rs.factor = s.factor;
      if (s.attentionFactor !== undefined) rs.attention_factor = s.attentionFactor;
      if (s.nHat) rs.n_hat = s.nHat;
      return { rope_theta: s.base, max_position_embeddings: N, original_max_position_embeddings: L, rope_scaling: rs };
    }
  }
}

/** The HF `rope_scaling` object for `spec` (null for none and static ntk). */
export function ropeScalingFromSpec(spec: RopeSpec): Record<string, unknown> | null {
  return hfConfigPatchFromSpec(spec).rope_scaling;
}
