/**
 * `longrope finetune`: fine-tune a model at an extended length with a RoPE spec (the searched
 * LongRoPE factors), resumable after a kill with --resume. Data: the bundled training split, or
 * the user's text / JSONL / Parquet files (--data).
 */
import type { Command } from 'commander';

import { readDocuments, SegmentStream, trainDocuments, checkPosition, type Document } from '../data';
import { readModelConfig } from '../model/config';
import { loadTokenizer } from '../model/tokenizer';
import { finetune } from '../train/finetune';
import { RECIPES, type Schedule, type ScheduleKind } from '../train/schedule';
import { parsePositiveInt, parsePositiveNumber, parseRopeArg, withRopeOptions } from './rope-arg';

interface FinetuneFlags {
  model: string;
  data?: string[];
  textField: string;
  length: string;
  rope?: string;
  factor?: string;
  steps: string;
  out: string;
  resume?: boolean;
  recipe: 'llama' | 'mistral';
  lr?: string;
  schedule?: ScheduleKind;
  warmup?: string;
  globalBatch?: string;
  microBatch: string;
  checkpointEvery: string;
  checkpointing?: boolean;
  seed: string;
  json?: boolean;
}

async function collect(docs: AsyncIterable<Document>): Promise<Document[]> {
  const out: Document[] = [];
  for await (const d of docs) out.push(d);
  return out;
}

/** Registers `finetune` on the CLI program. */
export function registerFinetuneCommand(program: Command): void {
  withRopeOptions(program.command('finetune'))
    .description('fine-tune at an extended length with a RoPE spec (resumable)')
    .requiredOption('--model <dir>', 'Hugging Face model directory to start from')
    .option('--data <paths...>', 'text/JSONL/Parquet files or folders (default: the bundled training split)')
    .option('--text-field <name>', 'JSONL/Parquet field holding the text', 'text')
    .requiredOption('--length <n>', 'training segment length in tokens')
    .requiredOption('--steps <k>', 'optimizer steps')
    .requiredOption('--out <dir>', 'output directory (final model + training/)')
    .option('--resume', 'continue the run in --out from its latest checkpoint')
    .option('--recipe <name>', 'llama (2e-5, linear, batch 32) or mistral (1e-6, constant, batch 64)', 'llama')
    .option('--lr <x>', 'peak learning rate (overrides the recipe)')
    .option('--schedule <kind>', 'linear, constant or cosine (overrides the recipe)')
    .option('--warmup <n>', 'warmup steps (overrides the recipe)')
    .option('--global-batch <n>', 'segments per optimizer step (overrides the recipe)')
    .option('--micro-batch <n>', 'segments per forward/backward (gradient accumulation)', '1')
    .option('--checkpoint-every <n>', 'steps between checkpoints', '50')
    .option('--checkpointing', 'activation checkpointing (recompute layers in backward; for long segments)')
    .option('--seed <n>', 'data order seed', '0')
    .option('--json', 'print the result as JSON')
    .action(async (f: FinetuneFlags) => {
      const config = readModelConfig(f.model);
      const rope = parseRopeArg(f.rope, f.factor, config.rope);
      const length = parsePositiveInt(f.length, '--length');
      const steps = parsePositiveInt(f.steps, '--steps');
      const recipe = RECIPES[f.recipe];
      if (!recipe) throw new Error(`Expected llama or mistral for --recipe but received ${JSON.stringify(f.recipe)}`);
      const schedule: Schedule = {
        kind: f.schedule ?? recipe.schedule.kind,
        lr: f.lr === undefined ? recipe.schedule.lr : parsePositiveNumber(f.lr, '--lr'),
        warmupSteps: f.warmup === undefined ? Math.min(recipe.schedule.warmupSteps, steps) : Number(f.warmup),
        totalSteps: steps,
      };
      const globalBatch = f.globalBatch === undefined ? recipe.globalBatch : parsePositiveInt(f.globalBatch, '--global-batch');
      const tokenizer = await loadTokenizer(f.model);
      const docs = f.data ? await collect(readDocuments(f.data, { textField: f.textField })) : await trainDocuments();
      const seed = Number(f.seed);
      const result = await finetune({
        modelDir: f.model, out: f.out, length, rope, steps, schedule, globalBatch,
        microBatch: parsePositiveInt(f.microBatch, '--micro-batch'),
        checkpointEvery: parsePositiveInt(f.checkpointEvery, '--checkpoint-every'),
        checkpointing: f.checkpointing ?? false,
        resume: f.resume ?? false,
        runInfo: { data: f.data ?? 'train split', seed },
        // A fresh run starts the seeded order; a resumed one continues from the saved position.
        data: (position) => SegmentStream.fromDocuments(docs, tokenizer,
          position === undefined ? { length, seed } : { length, position: checkPosition(position) }),
        onStep: (m) => {
          if (!process.stderr.isTTY && !f.json) console.error(`step ${m.step}/${steps} loss ${m.loss.toFixed(4)} lr ${m.lr.toExponential(2)}`);
        },
      });
      if (f.json) console.log(JSON.stringify(result));
      else console.log(`trained ${result.steps} steps (final loss ${result.finalLoss.toFixed(4)}); model in ${f.out}`);
    });
}
