/**
 * Evaluation: the paper's perplexity protocol, passkey retrieval, and multiple-choice
 * benchmarks scored as lm-evaluation-harness does. Depends on {@link ScoringModel}, never on
 * the concrete native model; never trains.
 */
export type { ScoringModel, RopeChoice, EvalJobOptions, EvalProgress } from './scoring-model';
export { PyRandom } from './py-random';
export { DataFileError, parseCsv, parseJsonl, parseJsonArray } from './data-files';
export { evaluatePerplexity, planWindows, sampleDocuments } from './perplexity';
export type { PerplexityOptions, PerplexityResult, PerplexityWindow, WindowOptions } from './perplexity';
export { measureEvalOverhead } from './overhead';
export { buildNeedleRows, evaluateNeedle } from './needle';
export type { NeedleOptions, NeedleResult, NeedleRow, NeedleTokenizer } from './needle';
export type { OverheadOptions, OverheadResult } from './overhead';
export {
  buildPasskeyPrompt,
  evaluatePasskey,
  firstInteger,
  fillerText,
  passkeyText,
  PASSKEY_FILLER,
  PASSKEY_INTRO,
  PASSKEY_QUESTION,
} from './passkey';
export type { PasskeyOptions, PasskeyPrompt, PasskeyResult, PasskeyTrial, PasskeyTokenizer } from './passkey';
export * from './tasks';
