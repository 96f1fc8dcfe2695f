/** Reading and writing HF config.json RoPE fields. */
import test from 'ava';

import {
  computeRopeTables,
  hfConfigPatchFromSpec,
  ropeScalingFromSpec,
  ropeSpecFromHfConfig,
  validateRopeSpec,
  type RopeSpec,
} from '../../src/rope';

const ramp = (n: number, lo: number, hi: number): number[] =>
  Array.from({ length: n }, (_, i) => Math.round((lo + ((hi - lo) * i) / (n - 1)) * 100) / 100);

const specs: RopeSpec[] = [
  { method: 'none', headDim: 128, base: 1e4, originalLength: 4096, length: 4096 },
  { method: 'none', headDim: 128, base: 1e4, originalLength: 4096, length: 16384 },
  { method: 'linear', headDim: 128, base: 1e4, originalLength: 4096, length: 32768 },
  { method: 'ntk', headDim: 64, base: 5e5, originalLength: 4096, length: 65536 },
  { method: 'dynamic-ntk', headDim: 128, base: 1e4, originalLength: 4096, length: 16384 },
  { method: 'yarn', headDim: 128, base: 1e4, originalLength: 4096, length: 131072 },
  { method: 'yarn', headDim: 64, base: 5e5, originalLength: 4096, length: 32768, betaFast: 16, betaSlow: 2, truncate: false },
  { method: 'yarn', headDim: 128, base: 1e4, originalLength: 4096, length: 163840, mscale: 1, mscaleAllDim: 0.707 },
  { method: 'llama3', headDim: 128, base: 5e5, originalLength: 8192, length: 131072, factor: 8 },
  {
    method: 'longrope', headDim: 128, base: 1e4, originalLength: 4096, length: 262144,
    longFactors: ramp(64, 1, 65), shortFactors: ramp(64, 1, 1.5), nHat: 16,
  },
  { method: 'longrope', headDim: 96, base: 1e4, originalLength: 4096, length: 131072, longFactors: ramp(48, 1, 33), attentionFactor: 1.2 },
];

for (const spec of specs) {
  const label = `${spec.method} d${spec.headDim} L${spec.originalLength} N${spec.length}`;
  test(`round trip through config.json: ${label}`, (t) => {
    const patch = hfConfigPatchFromSpec(spec);
    const config = JSON.parse(JSON.stringify({ head_dim: spec.headDim, ...patch })) as Record<string, unknown>;
    const back = ropeSpecFromHfConfig(config);
    for (const seqLen of [1000, spec.originalLength, spec.originalLength + 1, spec.length]) {
      const a = computeRopeTables(spec, seqLen);
      const b = computeRopeTables(back, seqLen);
      t.deepEqual(Array.from(b.invFreq), Array.from(a.invFreq), `seqLen ${seqLen}`);
      t.is(b.attentionFactor, a.attentionFactor);
      t.is(b.nHat, a.nHat);
    }
    // Static NTK comes back as plain RoPE with base'; everything else as the same spec.
    if (spec.method === 'ntk') t.is(back.method, 'none');
    else t.deepEqual(back, validateRopeSpec(spec, undefined, { searchConstraints: false }));
  });
}

test('what we write for each method', (t) => {
  t.is(ropeScalingFromSpec(specs[0]), null);
  t.deepEqual(hfConfigPatchFromSpec(specs[2]), {
    rope_theta: 1e4, max_position_embeddings: 32768, original_max_position_embeddings: 4096,
    rope_scaling: { rope_type: 'linear', factor: 8 },
  });
  // No HF static-NTK type: base' = 5e5 * 16^(64/62), no rope_scaling.
  const ntk = hfConfigPatchFromSpec(specs[3]);
  t.is(ntk.rope_scaling, null);
  t.true(Math.abs(ntk.rope_theta - 5e5 * Math.pow(16, 64 / 62)) < 1e-6);
  // HF's dynamic NTK takes L from max_position_embeddings.
  t.deepEqual(hfConfigPatchFromSpec(specs[4]), {
    rope_theta: 1e4, max_position_embeddings: 4096, rope_scaling: { rope_type: 'dynamic', factor: 4 },
  });
  t.deepEqual(ropeScalingFromSpec(specs[5]), { rope_type: 'yarn', factor: 32, original_max_position_embeddings: 4096 });
  t.deepEqual(ropeScalingFromSpec(specs[8]), {
    rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192,
  });
  const lr = hfConfigPatchFromSpec(specs[9]);
  t.is(lr.original_max_position_embeddings, 4096);
  t.is(lr.max_position_embeddings, 262144);
  t.deepEqual(Object.keys(lr.rope_scaling ?? {}), ['rope_type', 'short_factor', 'long_factor', 'n_hat']);
});

test('an attention factor HF cannot carry is refused on write', (t) => {
  const e = t.throws(() => hfConfigPatchFromSpec({ ...specs[2], attentionFactor: 1.1 }));
  t.is(
    e?.message,
    "Expected no attentionFactor (HF's linear RoPE has none; only yarn and longrope carry attention_factor) for attentionFactor but received 1.1 of type number",
  );
});

// Phi-3-mini-128k style: head_dim 3072 / 32 = 96, 48 factors each, legacy type names.
const phi3Long = [
  1.07, 1.12, 1.15, 1.42, 1.57, 1.8, 2.13, 2.13, 3.01, 5.91, 6.95, 9.07, 9.93, 10.71, 11.13, 14.61, 15.41, 19.81,
  37.28, 38.28, 38.6, 40.12, 46.2, 50.94, 53.66, 54.94, 56.9, 57.29, 59.99, 60.87, 60.89, 61.72, 62.92, 62.96,
  63.42, 63.82, 63.84, 63.9, 63.94, 64.07, 64.11, 64.12, 64.15, 64.19, 64.24, 64.57, 64.69, 64.76,
];
const phi3Short = [
  1.05, 1.05, 1.05, 1.1, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2.05, 2.05, 2.05, 2.1, 2.1, 2.1, 2.15, 2.15, 2.35, 2.55, 2.6, 2.6, 2.75, 2.85, 2.85, 2.95,
];
const phi3 = {
  architectures: ['Phi3ForCausalLM'], hidden_size: 3072, num_attention_heads: 32, num_key_value_heads: 32,
  max_position_embeddings: 131072, original_max_position_embeddings: 4096, rope_theta: 10000.0,
  rope_scaling: { type: 'longrope', short_factor: phi3Short, long_factor: phi3Long },
};

test('Phi-3-mini-128k style longrope config (head dim 96, 48 factors)', (t) => {
  const spec = ropeSpecFromHfConfig(phi3, { where: 'config.json' });
  t.like(spec, { method: 'longrope', headDim: 96, base: 1e4, originalLength: 4096, length: 131072, nHat: 0 });
  t.deepEqual(spec.longFactors, phi3Long);
  const long = computeRopeTables(spec);
  t.true(Math.abs(long.attentionFactor - Math.sqrt(1 + Math.log(32) / Math.log(4096))) < 1e-15);
  const base = Array.from(long.baseInvFreq);
  t.is(long.invFreq[47], Math.fround(base[47] / Math.fround(64.76)));
  t.is(computeRopeTables(spec, 4096).invFreq[0], Math.fround(base[0] / Math.fround(1.05)));
  // The legacy "su" name reads the same.
  const su = ropeSpecFromHfConfig({ ...phi3, rope_scaling: { ...phi3.rope_scaling, type: 'su' } });
  t.deepEqual(su, spec);
});

test('Llama-3.1-8B llama3 config', (t) => {
  const spec = ropeSpecFromHfConfig({
    hidden_size: 4096, num_attention_heads: 32, num_key_value_heads: 8, max_position_embeddings: 131072,
    rope_theta: 500000.0,
    rope_scaling: { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  });
  t.deepEqual(spec, {
    method: 'llama3', headDim: 128, base: 5e5, originalLength: 8192, length: 131072, factor: 8,
    lowFreqFactor: 1, highFreqFactor: 4,
  });
});

test('Mistral-7B and Llama-2 (no scaling; rope_theta absent means 1e4)', (t) => {
  const mistral = ropeSpecFromHfConfig({
    hidden_size: 4096, num_attention_heads: 32, max_position_embeddings: 32768, rope_theta: 10000.0, sliding_window: 4096,
  });
  t.deepEqual(mistral, { method: 'none', headDim: 128, base: 1e4, originalLength: 32768, length: 32768 });
  const llama2 = ropeSpecFromHfConfig({ hidden_size: 4096, num_attention_heads: 32, max_position_embeddings: 4096, rope_scaling: null });
  t.deepEqual(llama2, { method: 'none', headDim: 128, base: 1e4, originalLength: 4096, length: 4096 });
  // Options override the head dim and the target length.
  t.like(ropeSpecFromHfConfig({ hidden_size: 4096, num_attention_heads: 32, max_position_embeddings: 4096 }, { headDim: 64, length: 8192 }), {
    headDim: 64, length: 8192,
  });
});

test('legacy {"type": "yarn"} (Qwen2.5 style: max_position_embeddings stays at L)', (t) => {
  const spec = ropeSpecFromHfConfig({
    hidden_size: 3584, num_attention_heads: 28, max_position_embeddings: 32768, rope_theta: 1000000.0,
    rope_scaling: { factor: 4.0, original_max_position_embeddings: 32768, type: 'yarn' },
  });
  t.like(spec, { method: 'yarn', headDim: 128, base: 1e6, originalLength: 32768, length: 131072, factor: 4, betaFast: 32, betaSlow: 1, truncate: true });
});

test('DeepSeek style yarn with mscale, legacy dynamic, partial rotary, transformers v5 rope_parameters', (t) => {
  const ds = ropeSpecFromHfConfig({
    hidden_size: 7168, num_attention_heads: 128, head_dim: 64, max_position_embeddings: 163840, rope_theta: 10000,
    rope_scaling: { beta_fast: 32, beta_slow: 1, factor: 40, mscale: 1.0, mscale_all_dim: 1.0, original_max_position_embeddings: 4096, type: 'yarn' },
  });
  t.like(ds, { method: 'yarn', headDim: 64, originalLength: 4096, length: 163840, factor: 40, mscale: 1, mscaleAllDim: 1 });
  t.is(computeRopeTables(ds).attentionFactor, 1); // mscale / mscale_all_dim = 1

  const dyn = ropeSpecFromHfConfig({ hidden_size: 4096, num_attention_heads: 32, max_position_embeddings: 4096, rope_scaling: { type: 'dynamic', factor: 2.0 } });
  t.like(dyn, { method: 'dynamic-ntk', originalLength: 4096, length: 8192, factor: 2 });

  const partial = ropeSpecFromHfConfig({
    hidden_size: 3072, num_attention_heads: 24, partial_rotary_factor: 0.75, max_position_embeddings: 131072,
    original_max_position_embeddings: 4096, rope_scaling: { rope_type: 'longrope', long_factor: ramp(48, 1, 30), short_factor: ramp(48, 1, 2) },
  });
  t.like(partial, { method: 'longrope', headDim: 96 });

  const v5 = ropeSpecFromHfConfig({
    hidden_size: 4096, num_attention_heads: 32, max_position_embeddings: 32768,
    rope_parameters: { rope_type: 'linear', factor: 8.0, rope_theta: 500000.0 },
  });
  t.like(v5, { method: 'linear', base: 5e5, factor: 8, originalLength: 32768 });
});
