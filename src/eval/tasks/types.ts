/**
 * Plain types of the multiple-choice benchmarks: a document is already rendered the way the
 * lm-evaluation-harness task YAML renders it (doc_to_text, doc_to_choice, doc_to_target), so the
 * runner is the same for every benchmark.
 */

/** One rendered multiple-choice question. */
export interface McDoc {
  /** doc_to_text: the question as it appears in the prompt (ends before the answer). */
  text: string;
  /** doc_to_choice: the answer strings; each is scored as " " + choice. */
  choices: string[];
  /** doc_to_target: index of the correct choice (the one shown in few-shot examples). */
  gold: number;
  /** TruthfulQA mc2: 1/0 per choice (true answers first, as the dataset orders them). */
  labels?: number[];
  /** `file:line` of the source row. */
  source: string;
}

/** A set of documents scored with one prompt layout (MMLU: one per subject). */
export interface McSubtask {
  name: string;
  /** The task description put before the few-shot examples ('' if none). */
  description: string;
  docs: McDoc[];
  /** Few-shot pool (the training or dev split); empty when only 0-shot is possible. */
  fewshot: McDoc[];
  /** 'random': the harness's random.Random(seed).sample per document; 'first_n': the first k. */
  sampler: 'random' | 'first_n';
}

/** Which metric a task reports. */
export type McMetric = 'acc' | 'mc2';

/** A benchmark read from disk. */
export interface LoadedTask {
  name: string;
  metric: McMetric;
  subtasks: McSubtask[];
}

/** How to load a benchmark from the user's files. */
export interface TaskDefinition {
  name: string;
  /** Few-shot count of the Open LLM Leaderboard setting. */
  defaultShots: number;
  metric: McMetric;
  /** One line for --help: which files the path names. */
  files: string;
  /**
   * Reads the evaluation split at `path` (a file or the release directory) and, when
   * `shots > 0`, the few-shot split (`fewshotPath`, else found next to it).
   */
  load(path: string, opts: { shots: number; fewshotPath?: string }): LoadedTask;
}

/** Scores of one document. */
export interface McItemResult {
  source: string;
  gold: number;
  /** Sum log-likelihood of each " " + choice. */
  lls: number[];
  /** acc/acc_norm: 1 or 0; mc2: the normalised true probability mass. */
  score: number;
  scoreNorm?: number;
}

/** Metrics of one subtask. */
export interface McSubtaskResult {
  name: string;
  n: number;
  metrics: Record<string, number>;
}

/** Result of one benchmark. */
export interface TaskResult {
  task: string;
  shots: number;
  /** Documents scored. */
  n: number;
  /** acc, acc_stderr, acc_norm, acc_norm_stderr (micro over all documents), MMLU also
   *  acc_macro (mean over subjects); truthfulqa_mc2: mc2, mc2_stderr. */
  metrics: Record<string, number>;
  subtasks: McSubtaskResult[];
  items: McItemResult[];
}
