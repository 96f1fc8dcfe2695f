/**
 * `longrope bench-tasks`: multiple-choice benchmarks (ARC-Challenge, HellaSwag, MMLU, TruthfulQA
 * mc2) scored by log-likelihood as lm-evaluation-harness does, from the user's local copies.
 * `--json` prints {"kind": "tasks", "method": label, ..., "results": [{task, shots, n, metrics,
 * subtasks}]}.
 */
import type { Command } from 'commander';

import { evaluateTask, taskDefinition, TASKS } from '../eval/tasks';
import type { LoadedTask, TaskResult } from '../eval/tasks/types';
import { describeValue } from '../common/errors';
import { registerEvalCommand, type EvalFlags } from './eval-command';
import { progressLine } from './output';
import { parseNonNegativeInt, parsePositiveInt } from './rope-arg';

interface BenchFlags extends EvalFlags {
  task: string[];
  fewshotFile?: string[];
  limit?: string;
  shots?: string;
  addBos?: boolean;
  maxLength?: string;
  details?: boolean;
}

/** `name=PATH` pairs of a repeatable flag. */
function pairs(values: string[] | undefined, flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0 || i === v.length - 1) throw new Error(`Expected NAME=PATH for ${flag} but received ${describeValue(v)}`);
    const name = v.slice(0, i);
    taskDefinition(name);
    out.set(name, v.slice(i + 1));
  }
  return out;
}

const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(4));

/** Registers `bench-tasks` on the CLI program. */
export function registerBenchTasksCommand(program: Command): void {
  const names = Object.keys(TASKS).join(', ');
  registerEvalCommand(program, {
    name: 'bench-tasks',
    kind: 'tasks',
    description: 'multiple-choice benchmarks scored by log-likelihood as lm-evaluation-harness does (acc, acc_norm, mc2)',
    options: (c) => c
      .requiredOption('--task <name=path...>', `benchmarks to run (${names}); path: ${Object.values(TASKS).map((t) => `${t.name}: ${t.files}`).join('; ')}`)
      .option('--fewshot-file <name=path...>', 'few-shot split for a task when it is not next to the evaluation file')
      .option('--limit <n>', 'score only the first n documents of each task (per subject for MMLU)')
      .option('--shots <n>', 'few-shot examples (default: 25 ARC, 10 HellaSwag, 5 MMLU; TruthfulQA is always 0)')
      .option('--add-bos', 'prepend BOS to every request (the harness default for HF models is not to)')
      .option('--max-length <n>', 'longest model input; longer requests keep their last tokens (default the model\'s max_position_embeddings)')
      .option('--details', 'keep per-question log-likelihoods in the JSON'),
    parse(f: BenchFlags) {
      const tasks = pairs(f.task, '--task');
      const fewshot = pairs(f.fewshotFile, '--fewshot-file');
      const shotsOverride = f.shots === undefined ? undefined : parseNonNegativeInt(f.shots, '--shots');
      return {
        tasks, fewshot, shotsOverride,
        limit: f.limit === undefined ? undefined : parsePositiveInt(f.limit, '--limit'),
        maxLength: f.maxLength === undefined ? undefined : parsePositiveInt(f.maxLength, '--max-length'),
        addBos: Boolean(f.addBos),
        details: Boolean(f.details),
        loaded: [] as { shots: number; task: LoadedTask }[],
      };
    },
    // Read every task file before loading the model: a bad file fails fast.
    async prepare(plan) {
      const loaded = [...plan.tasks].map(([name, p]) => {
        const def = taskDefinition(name);
        const shots = def.defaultShots === 0 ? 0 : plan.shotsOverride ?? def.defaultShots;
        return { shots, task: def.load(p, { shots, fewshotPath: plan.fewshot.get(name) }) };
      });
      return { ...plan, loaded };
    },
    async run(model, plan, context) {
      const tokenizer = await context.tokenizer();
      const results: TaskResult[] = [];
      for (const { shots, task } of plan.loaded) {
        results.push(await evaluateTask(model, tokenizer, task, {
          shots, limit: plan.limit, addBos: plan.addBos, maxLength: plan.maxLength, rope: context.rope, onProgress: progressLine(task.name),
        }));
      }
      return { addBos: plan.addBos, limit: plan.limit ?? null, results: results.map((r) => (plan.details ? r : { ...r, items: undefined })) };
    },
    table: (r) => ({
      rows: [['task', 'shots', 'n', 'acc', 'acc_norm', 'mc2'], ...r.results.map((x) => [
        x.task, String(x.shots), String(x.n), fmt(x.metrics.acc), fmt(x.metrics.acc_norm), fmt(x.metrics.mc2),
      ])],
    }),
  });
}
