/**
 * The multiple-choice benchmarks of the Open LLM Leaderboard (v1) setting, scored by
 * log-likelihood as lm-evaluation-harness does. See docs/evaluation.md for what was matched.
 */
import { arcChallenge } from './arc';
import { hellaswag } from './hellaswag';
import { mmlu } from './mmlu';
import { truthfulqaMc2 } from './truthfulqa';
import type { TaskDefinition } from './types';

/** The benchmarks by harness task name. */
export const TASKS: Readonly<Record<string, TaskDefinition>> = {
  arc_challenge: arcChallenge,
  hellaswag,
  mmlu,
  truthfulqa_mc2: truthfulqaMc2,
};

/** The definition of `name`, or an Error listing the known tasks. */
export function taskDefinition(name: string): TaskDefinition {
  const def = Object.prototype.hasOwnProperty.call(TASKS, name) ? TASKS[name] : undefined;
  if (!def) throw new Error(`Expected one of ${Object.keys(TASKS).join(', ')} for the task name but received ${JSON.stringify(name)}`);
  return def;
}

export { evaluateTask, buildContexts, fewshotBlock } from './runner';
export type { TaskRunOptions } from './runner';
export { encodePair, continuationLogLikelihood, accScores, mc2Score, meanStderr, argmax } from './loglik';
export type { EncodedPair, McTokenizer } from './loglik';
export { readArc } from './arc';
export { readHellaswag, hellaswagPreprocess, pyCapitalize } from './hellaswag';
export { readMmluCsv, mmluDescription } from './mmlu';
export { readTruthfulqa, TRUTHFULQA_PREAMBLE } from './truthfulqa';
export type * from './types';
