/**
 * RoPE math for LongRoPE context extension: pure TypeScript, no model, no binding. Model code
 * turns a RopeSpec into RopeTables for the native rotary op; the search works on LongRoPE
 * factors; export writes HF config fields.
 */
export { ROPE_METHODS, isRopeTables } from './types';
export type { RopeChoice, RopeMethod, RopeSpec, RopeTables } from './types';
export { RopeSpecError, describeValue } from './errors';
export { validateRopeSpec, YARN_DEFAULTS, LLAMA3_DEFAULTS } from './validate';
export type { ValidateRopeSpecOptions } from './validate';
export { checkFactorList, checkSearchConstraints } from './factor-checks';
export type { FactorCheckOptions } from './factor-checks';
export {
  baseInvFreq,
  computeRopeTables,
  ropeAttentionFactor,
  ropeExponents,
  yarnFindDimRange,
} from './methods';
export { methodAsLongropeSpec, methodToLongropeFactors } from './longrope-factors';
export { HF_ROPE_TYPES, hfConfigPatchFromSpec, ropeScalingFromSpec, ropeSpecFromHfConfig } from './hf-config';
export type { HfConfigPatch, HfReadOptions } from './hf-config';
export { formatFactorCsv, parseFactorCsv } from './factor-csv';
export type { ParseFactorCsvOptions } from './factor-csv';
