/** Bad input: every message names the field, what was expected and what was received. */
import test from 'ava';

import { computeRopeTables, ropeSpecFromHfConfig, RopeSpecError, validateRopeSpec, type RopeSpec } from '../../src/rope';

const good: RopeSpec = { method: 'yarn', headDim: 128, base: 1e4, originalLength: 4096, length: 131072 };
const longrope = (longFactors: unknown[], extra: Record<string, unknown> = {}): unknown => ({
  method: 'longrope', headDim: 8, base: 1e4, originalLength: 4096, length: 65536, longFactors, ...extra,
});

function message(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof RopeSpecError)) throw e;
    return e.message;
  }
  return undefined;
}

test('validateRopeSpec fills defaults and copies', (t) => {
  const input = longrope([1, 2, 3, 4]) as RopeSpec;
  const out = validateRopeSpec(input);
  t.deepEqual(out, { ...input, factor: 16, shortFactors: [1, 1, 1, 1], nHat: 0 });
  t.not(out.longFactors, input.longFactors);
  t.like(validateRopeSpec(good), { factor: 32, betaFast: 32, betaSlow: 1, truncate: true });
  // Irrelevant fields are dropped; a window shorter than L is fine (short factor sets).
  t.false('betaFast' in validateRopeSpec({ ...good, method: 'linear', betaFast: 8 }));
  t.notThrows(() => validateRopeSpec({ ...(longrope([1, 1, 1, 1]) as RopeSpec), length: 2048 }));
});

test('exact messages for the common mistakes', (t) => {
  t.is(
    message(() => validateRopeSpec({ ...good, method: 'rope2' })),
    'Expected one of "none", "linear", "ntk", "dynamic-ntk", "yarn", "llama3", "longrope" for method but received "rope2" of type string',
  );
  t.is(message(() => validateRopeSpec({ ...good, headDim: 63 })), 'Expected an even integer >= 2 for headDim but received 63 of type number');
  t.is(message(() => validateRopeSpec({ ...good, headDim: 0 })), 'Expected an even integer >= 2 for headDim but received 0 of type number');
  t.is(message(() => validateRopeSpec({ ...good, base: NaN })), 'Expected a finite number greater than 1 for base but received NaN of type number');
  t.is(message(() => validateRopeSpec({ ...good, base: -5 })), 'Expected a finite number greater than 1 for base but received -5 of type number');
  t.is(message(() => validateRopeSpec({ ...good, length: 0 })), 'Expected a positive integer for length but received 0 of type number');
  t.is(
    message(() => validateRopeSpec({ ...good, originalLength: '4096' })),
    'Expected a positive integer for originalLength but received "4096" of type string',
  );
  t.is(message(() => validateRopeSpec({ ...good, factor: Infinity })), 'Expected a finite number greater than 0 for factor but received Infinity of type number');
  t.is(message(() => validateRopeSpec(null)), 'Expected an object for spec but received null');
  t.is(
    message(() => validateRopeSpec({ ...good, method: 'llama3', lowFreqFactor: 4, highFreqFactor: 2 })),
    'Expected a number greater than lowFreqFactor (4) for highFreqFactor but received 2 of type number',
  );
});

test('factor lists: count, value, >= 1 and monotone, naming the index', (t) => {
  t.is(
    message(() => validateRopeSpec(longrope([1, 2, 3]))),
    'Expected 4 factors (headDim / 2 with headDim 8) for longFactors but received 3 factors',
  );
  t.is(message(() => validateRopeSpec(longrope([1, 2, NaN, 4]))), 'Expected a finite number greater than 0 for longFactors[2] but received NaN of type number');
  t.is(message(() => validateRopeSpec(longrope([0.5, 2, 3, 4]))), 'Expected a number >= 1 for longFactors[0] but received 0.5 of type number');
  const e = t.throws(() => validateRopeSpec(longrope([1, 1.5, 1.5, 1.2])), { instanceOf: RopeSpecError });
  t.is(e?.message, 'Expected a number >= 1.5 (longFactors[2]; factors must be non-decreasing) for longFactors[3] but received 1.2 of type number');
  t.is((e as RopeSpecError).field, 'longFactors[3]');
  t.is(message(() => validateRopeSpec(longrope([1, 2, 3, 4], { shortFactors: 'ones' }))), 'Expected an array of 4 factors (headDim / 2) for shortFactors but received "ones" of type string');
  t.is(message(() => validateRopeSpec({ ...(longrope([]) as object), longFactors: undefined })), 'Expected an array of 4 factors (headDim / 2) for longFactors but received undefined');
  // Published factors need not meet the search constraints: tables are still built.
  t.notThrows(() => validateRopeSpec(longrope([1, 1.5, 1.5, 1.2]), undefined, { searchConstraints: false }));
  t.notThrows(() => computeRopeTables(longrope([0.9, 1.5, 1.5, 1.2]) as RopeSpec));
});

test('nHat must be a non-negative integer and belongs to longrope only', (t) => {
  t.is(message(() => validateRopeSpec(longrope([1, 1, 1, 1], { nHat: -1 }))), 'Expected a non-negative integer for nHat but received -1 of type number');
  t.is(message(() => validateRopeSpec(longrope([1, 1, 1, 1], { nHat: 1.5 }))), 'Expected a non-negative integer for nHat but received 1.5 of type number');
  t.is(message(() => validateRopeSpec({ ...good, nHat: 4 })), 'Expected 0 (nHat applies to longrope only) for nHat but received 4 of type number');
});

test('where prefixes the message; seqLen is checked', (t) => {
  t.is(message(() => validateRopeSpec({ ...good, base: 0 }, 'run.json')), 'run.json: Expected a finite number greater than 1 for base but received 0 of type number');
  t.is(message(() => computeRopeTables(good, 0)), 'Expected a positive integer for seqLen but received 0 of type number');
  const e = t.throws(() => validateRopeSpec({ ...good, headDim: 7 }));
  t.true(e instanceof RopeSpecError && e.name === 'RopeSpecError' && e.field === 'headDim');
});

test('HF config errors use the config keys', (t) => {
  const phi = {
    hidden_size: 3072, num_attention_heads: 32, max_position_embeddings: 131072, original_max_position_embeddings: 4096,
    rope_scaling: { rope_type: 'longrope', short_factor: new Array(48).fill(1), long_factor: new Array(47).fill(2) },
  };
  t.is(
    message(() => ropeSpecFromHfConfig(phi, { where: 'config.json' })),
    'config.json: Expected 48 factors (headDim / 2 with headDim 96) for rope_scaling.long_factor but received 47 factors',
  );
  t.is(
    message(() => ropeSpecFromHfConfig({ ...phi, rope_scaling: { type: 'mrope' } }, { where: 'config.json' })),
    'config.json: Expected one of "default", "linear", "dynamic", "yarn", "longrope", "su", "llama3" for rope_scaling.type but received "mrope" of type string',
  );
  t.is(
    message(() => ropeSpecFromHfConfig({ ...phi, rope_scaling: { rope_type: 'linear' } })),
    'Expected a finite number greater than 0 for rope_scaling.factor but received undefined',
  );
  t.is(message(() => ropeSpecFromHfConfig({ ...phi, rope_theta: 'big' })), 'Expected a finite number greater than 1 for rope_theta but received "big" of type string');
  t.is(message(() => ropeSpecFromHfConfig({ ...phi, max_position_embeddings: -1 })), 'Expected a positive integer for max_position_embeddings but received -1 of type number');
  t.is(message(() => ropeSpecFromHfConfig({ ...phi, rope_scaling: [] })), 'Expected an object or null for rope_scaling but received an array of length 0');
  t.is(
    message(() => ropeSpecFromHfConfig({ ...phi, hidden_size: 3000, num_attention_heads: 40, rope_scaling: null })),
    'Expected an even integer >= 2 for hidden_size / num_attention_heads but received 75 of type number',
  );
});
