/**
 * Runs a multiple-choice benchmark the way lm-evaluation-harness does: per document, the prompt
 * is description + k few-shot examples ("text target\n\n" each) + the document's text
 * (lm_eval/api/samplers.py `get_context`, lm_eval/api/task.py `fewshot_context`); each choice
 * is scored as the continuation " " + choice; few-shot examples are drawn per document, in
 * document order, from one random.Random(1234) per task (or taken first-n for MMLU).
 */
import type { RopeSpec, RopeTables } from '../../rope/types';
import { PyRandom } from '../py-random';
import type { EvalJobOptions, ScoringModel } from '../scoring-model';
import { throwIfAborted } from '../scoring-model';
import { accScores, continuationLogLikelihood, encodePair, mc2Score, meanStderr, type McTokenizer } from './loglik';
import type { LoadedTask, McDoc, McItemResult, McSubtask, McSubtaskResult, TaskResult } from './types';

/** Options of {@link evaluateTask}. */
export interface TaskRunOptions extends EvalJobOptions {
  /** Few-shot examples per prompt. */
  shots: number;
  /** Score only the first N documents of each subtask (the harness's --limit). */
  limit?: number;
  /** Prepend BOS to contexts (default false: the harness's HFLM default add_bos_token=False). */
  addBos?: boolean;
  /** Longest model input; longer requests keep their last maxLength + 1 tokens (default config.rope.length). */
  maxLength?: number;
  rope?: RopeSpec | RopeTables;
  /** Seed of the few-shot sampler (default 1234, the harness's fewshot_random_seed). */
  fewshotSeed?: number;
}

/** The few-shot example block: "text target\n\n" per example. */
export function fewshotBlock(examples: McDoc[]): string {
  return examples.map((d) => `${d.text} ${d.choices[d.gold]}\n\n`).join('');
}

/** Few-shot contexts of the first `count` documents, in order, from one sampler. */
export function buildContexts(subtask: McSubtask, shots: number, count: number, seed = 1234): string[] {
  if (shots > subtask.fewshot.length) {
    throw new RangeError(`${subtask.name}: Expected at most ${subtask.fewshot.length} few-shot examples (the few-shot split's size) for shots but received ${shots}`);
  }
  const rnd = new PyRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const doc = subtask.docs[i];
    let examples: McDoc[] = [];
    if (shots > 0) examples = subtask.sampler === 'first_n' ? subtask.fewshot.slice(0, shots) : rnd.sample(subtask.fewshot, shots);
    out.push(subtask.description + fewshotBlock(examples) + doc.text);
  }
  return out;
}

function summarise(items: McItemResult[], metric: LoadedTask['metric']): Record<string, number> {
  if (metric === 'mc2') {
    const s = meanStderr(items.map((r) => r.score));
    return { mc2: s.mean, mc2_stderr: s.stderr };
  }
  const a = meanStderr(items.map((r) => r.score));
  const b = meanStderr(items.map((r) => r.scoreNorm ?? NaN));
  return { acc: a.mean, acc_stderr: a.stderr, acc_norm: b.mean, acc_norm_stderr: b.stderr };
}

/**
 * Scores every choice of every document (one model.nll call per choice) and aggregates acc and
 * acc_norm, or mc2. Progress counts choices scored.
 */
export async function evaluateTask(model: ScoringModel, tokenizer: McTokenizer, task: LoadedTask, options: TaskRunOptions): Promise<TaskResult> {
  const { shots } = options;
  if (!Number.isInteger(shots) || shots < 0) throw new RangeError(`Expected a non-negative integer for shots but received ${shots}`);
  const limit = options.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new RangeError(`Expected a positive integer for limit but received ${limit}`);
  const maxLength = options.maxLength ?? model.config.rope.length;
  const addBos = options.addBos ?? false;
  const plan = task.subtasks.map((st) => {
    const count = Math.min(st.docs.length, limit ?? Infinity);
    return { st, contexts: buildContexts(st, shots, count, options.fewshotSeed ?? 1234) };
  });
  const total = plan.reduce((n, p) => n + p.contexts.reduce((m, _c, i) => m + p.st.docs[i].choices.length, 0), 0);
  let done = 0;
  options.onProgress?.(0, total);

  const items: McItemResult[] = [];
  const subtasks: McSubtaskResult[] = [];
  for (const { st, contexts } of plan) {
    const own: McItemResult[] = [];
    for (let i = 0; i < contexts.length; i++) {
      const doc = st.docs[i];
      const lls: number[] = [];
      for (const choice of doc.choices) {
        throwIfAborted(options.signal);
        const pair = encodePair(tokenizer, contexts[i], ` ${choice}`, { addBos, maxLength });
        lls.push(await continuationLogLikelihood(model, pair, options.rope, options.signal));
        options.onProgress?.(++done, total);
      }
      if (task.metric === 'mc2') {
        own.push({ source: doc.source, gold: doc.gold, lls, score: mc2Score(lls, doc.labels ?? []) });
      } else {
        const s = accScores(lls, doc.choices, doc.gold);
        own.push({ source: doc.source, gold: doc.gold, lls, score: s.acc, scoreNorm: s.accNorm });
      }
    }
    subtasks.push({ name: st.name, n: own.length, metrics: summarise(own, task.metric) });
    items.push(...own);
  }
  const metrics = summarise(items, task.metric);
  if (subtasks.length > 1 && task.metric === 'acc') {
    metrics.acc_macro = subtasks.reduce((s, r) => s + r.metrics.acc, 0) / subtasks.length;
  }
  return { task: task.name, shots, n: items.length, metrics, subtasks, items };
}
