/**
 * `longrope bench-tasks`: multiple-choice benchmarks (ARC-Challenge, HellaSwag, MMLU, TruthfulQA
 * mc2) scored by log-likelihood as lm-evaluation-harness does, from the user's local copies.
 * `--json` prints {"kind": "tasks", "method": label, ..., "results": [{task, shots, n, metrics,
 * subtasks}]}.
 */
import type { Command } from 'commander';

import { evaluateTask, taskDefinition, TASKS } from '../eval/tasks';
import type { TaskResult } from '../eval/tasks/types';
import { Model } from '../model/model';
import { loadTokenizer } from '../model/tokenizer';
import { describeValue } from '../rope/errors';
import { formatTable, parseNonNegativeInt, parsePositiveInt, parseRopeArg, progressLine, ropeLabel, writeResultFile, withRopeOptions } from './rope-arg';

interface BenchFlags {
  model: string;
  task: string[];
  fewshotFile?: string[];
  limit?: string;
  shots?: string;
  addBos?: boolean;
  maxLength?: string;
  rope?: string;
  factor?: string;
  tokenizer?: string;
  device?: string;
  label?: string;
  details?: boolean;
  output?: string;
  json?: boolean;
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
  withRopeOptions(program.command('bench-tasks'))
    .description('multiple-choice benchmarks scored by log-likelihood as lm-evaluation-harness does (acc, acc_norm, mc2)')
    .requiredOption('--model <dir>', 'Hugging Face model directory')
    .requiredOption('--task <name=path...>', `benchmarks to run (${names}); path: ${Object.values(TASKS).map((t) => `${t.name}: ${t.files}`).join('; ')}`)
    .option('--fewshot-file <name=path...>', 'few-shot split for a task when it is not next to the evaluation file')
    .option('--limit <n>', 'score only the first n documents of each task (per subject for MMLU)')
    .option('--shots <n>', 'few-shot examples (default: 25 ARC, 10 HellaSwag, 5 MMLU; TruthfulQA is always 0)')
    .option('--add-bos', 'prepend BOS to every request (the harness default for HF models is not to)')
    .option('--max-length <n>', 'longest model input; longer requests keep their last tokens (default the model\'s max_position_embeddings)')
    .option('--tokenizer <dir>', 'tokenizer directory (default --model)')
    .option('--device <d>', 'cpu or cuda[:N]')
    .option('--label <name>', 'method label stored in the result (default from --rope)')
    .option('--details', 'keep per-question log-likelihoods in the JSON')
    .option('--output <file>', 'also write the result JSON to this file')
    .option('--json', 'print the result JSON')
    .action(async (flags: BenchFlags) => {
      const tasks = pairs(flags.task, '--task');
      const fewshot = pairs(flags.fewshotFile, '--fewshot-file');
      const limit = flags.limit === undefined ? undefined : parsePositiveInt(flags.limit, '--limit');
      const shotsOverride = flags.shots === undefined ? undefined : parseNonNegativeInt(flags.shots, '--shots');
      const maxLength = flags.maxLength === undefined ? undefined : parsePositiveInt(flags.maxLength, '--max-length');
      // Read every file before loading the model: a bad file fails fast.
      const loaded = [...tasks].map(([name, p]) => {
        const def = taskDefinition(name);
        const shots = def.defaultShots === 0 ? 0 : shotsOverride ?? def.defaultShots;
        return { shots, task: def.load(p, { shots, fewshotPath: fewshot.get(name) }) };
      });
      const tokenizer = await loadTokenizer(flags.tokenizer ?? flags.model);
      const model = await Model.load(flags.model, { device: flags.device });
      try {
        const rope = parseRopeArg(flags.rope, flags.factor, model.config.rope);
        const results: TaskResult[] = [];
        for (const { shots, task } of loaded) {
          const r = await evaluateTask(model, tokenizer, task, { shots, limit, addBos: flags.addBos, maxLength, rope, onProgress: progressLine(task.name) });
          results.push(r);
        }
        const file = {
          kind: 'tasks',
          method: flags.label ?? ropeLabel(flags.rope, rope),
          model: flags.model,
          rope,
          addBos: Boolean(flags.addBos),
          limit: limit ?? null,
          results: results.map((r) => (flags.details ? r : { ...r, items: undefined })),
        };
        if (flags.output) writeResultFile(flags.output, file);
        if (flags.json) {
          console.log(JSON.stringify(file, null, 2));
          return;
        }
        const rows = [['task', 'shots', 'n', 'acc', 'acc_norm', 'mc2']];
        for (const r of results) rows.push([r.task, String(r.shots), String(r.n), fmt(r.metrics.acc), fmt(r.metrics.acc_norm), fmt(r.metrics.mc2)]);
        console.log(formatTable(rows));
      } finally {
        model.dispose();
      }
    });
}
