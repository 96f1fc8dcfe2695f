/**
 * `longrope finetune`: fine-tune a model at an extended length with a RoPE spec (the searched
 * LongRoPE factors), resumable after a kill with --resume. Data: the bundled training split (in
 * memory), or the user's text / JSONL / Parquet files (--data), streamed: re-read every epoch and
 * shuffled through a bounded buffer, so their size is not limited by memory. Under
 * `longrope launch --nproc N` every step runs sequence-parallel over the N processes (ring
 * attention; rank 0 writes the run and prints).
 */
import type { Command } from 'commander';

import { checkPosition, listDataFiles, readDocuments, segmentSource, SegmentStream, StreamingSegments, trainDocuments } from '../data';
import { ProcessGroup, readDistEnv } from '../dist';
import { readModelConfig } from '../model/config';
import { loadTokenizer, type Tokenizer } from '../data/tokenizer';
import { finetune, type SegmentSource } from '../train/finetune';
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
  shuffleBuffer: string;
  device?: string;
  mixedShort?: string;
  json?: boolean;
}

/** What {@link dataSource} needs besides the saved position. */
export interface DataChoice {
  paths?: string[];
  textField: string;
  tokenizer: Tokenizer;
  length: number;
  seed: number;
  shuffleBuffer: number;
}

/**
 * The run's segments: a fresh run starts the seeded order, a resumed one continues from the saved
 * position. User files are streamed (re-read each epoch; a resume replays the epoch up to the
 * position) and probed first, so too little text fails before training starts.
 */
export async function dataSource(c: DataChoice, position: unknown): Promise<SegmentSource> {
  const start = position === undefined ? { length: c.length, seed: c.seed } : { length: c.length, position: checkPosition(position) };
  if (c.paths === undefined) return SegmentStream.fromDocuments(await trainDocuments(), c.tokenizer, start);
  const paths = c.paths;
  const stream = new StreamingSegments(() => readDocuments(paths, { textField: c.textField }), c.tokenizer, { ...start, shuffleBuffer: c.shuffleBuffer });
  await stream.probe();
  return segmentSource(stream);
}

/**
 * For the kill-and-resume tests: with LONGROPE_TEST_HALT_AFTER_CHECKPOINT=N the process stops
 * (alive, doing nothing) once checkpoint N is on disk, so the test kills it at a step it chose,
 * however fast the machine is.
 */
async function haltForTests(step: number): Promise<void> {
  if (Number(process.env.LONGROPE_TEST_HALT_AFTER_CHECKPOINT) !== step) return;
  await new Promise(() => setInterval(() => undefined, 60_000));
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
    .option('--shuffle-buffer <n>', 'segments held in memory to shuffle the streamed --data files (1 keeps file order)', '1024')
    .option('--device <d>', 'cpu or cuda[:N] (CUDA: fp32 weights, bf16 autocast)', 'cpu')
    .option('--mixed-short <every>', 'mixed context window training (LongRoPE2): every n-th step trains on segments cut to the original window (short factors there)')
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
      const shuffleBuffer = parsePositiveInt(f.shuffleBuffer, '--shuffle-buffer');
      // Every file checked now (exists, readable, known kind), not when an epoch reaches it.
      if (f.data) listDataFiles(f.data);
      const tokenizer = await loadTokenizer(f.model);
      const seed = Number(f.seed);
      const choice: DataChoice = { paths: f.data, textField: f.textField, tokenizer, length, seed, shuffleBuffer };
      // Under a launcher (WORLD_SIZE > 1) the ranks split every segment (sequence parallel).
      const group = (readDistEnv()?.worldSize ?? 1) > 1 ? await ProcessGroup.init({ backend: f.device?.startsWith('cuda') ? 'nccl' : 'gloo' }) : undefined;
      const rank0 = (group?.rank ?? 0) === 0;
      let result;
      try {
        result = await finetune({
          modelDir: f.model, out: f.out, length, rope, steps, schedule, globalBatch,
          microBatch: parsePositiveInt(f.microBatch, '--micro-batch'),
          checkpointEvery: parsePositiveInt(f.checkpointEvery, '--checkpoint-every'),
          checkpointing: f.checkpointing ?? false,
          mixedShort: f.mixedShort === undefined ? undefined : { length: config.rope.originalLength, every: parsePositiveInt(f.mixedShort, '--mixed-short') },
          resume: f.resume ?? false,
          device: f.device,
          // The shuffle buffer shapes the streamed order, so a resume must use the same one.
          runInfo: f.data ? { data: f.data, seed, shuffleBuffer } : { data: 'train split', seed },
          data: (position) => dataSource(choice, position),
          onStep: (m) => {
            if (!process.stderr.isTTY && !f.json) console.error(`step ${m.step}/${steps} loss ${m.loss.toFixed(4)} lr ${m.lr.toExponential(2)}`);
          },
          onCheckpoint: haltForTests,
          sequenceParallel: group,
        });
      } finally {
        group?.dispose();
      }
      if (!rank0) return;
      if (f.json) console.log(JSON.stringify(result));
      else if (result.alreadyFinished) console.log(`the run in ${f.out} already finished (${result.steps} steps); nothing to do`);
      else console.log(`trained ${result.steps} steps (final loss ${result.finalLoss.toFixed(4)}); model in ${f.out}`);
    });
}
