/**
 * The resumable training loop used for LongRoPE fine-tuning and for the tiny base model:
 * segments from a data source -> global batches (gradient accumulation over micro-batches) ->
 * one native AdamW step each, a learning-rate schedule, metrics as JSONL, atomic checkpoints
 * every N steps, and an exact resume (weights, optimizer, step, data position) after a kill.
 *
 * Layout of `out`: the final Hugging Face model (config.json with the run's RoPE, model.safetensors,
 * tokenizer files) and `training/` with run.json, metrics.jsonl and checkpoints/.
 *
 * Sequence parallel (`sequenceParallel`, a process group; `longrope launch -- longrope finetune`):
 * every rank reads the same data and runs every step over its zigzag share of the segments; rank 0
 * alone checks and writes `out` (run.json, metrics, checkpoints, the final model), and every rank
 * resumes from the checkpoint rank 0 wrote (one machine, or a file system all ranks share).
 */
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';

import type { JobOptions } from '../job';
import { Model } from '../model/model';
import type { NativeGroupRunner } from '../native';
import type { RopeSpec } from '../rope/types';
import { checkResumeSignature, inputError } from '../common/errors';
import { checkOutputPath, readJsonFile, writeFileAtomic } from '../common/files';
import { parseModelConfig } from '../model/config';
import { CheckpointDir, type CheckpointState } from './checkpoints';
import { progressBar } from './progress';
import { RunLock } from '../common/run-lock';
import { learningRate, validateSchedule, type Schedule } from './schedule';
import { Trainer, type OptimizerOptions } from './trainer';

/** Where training segments come from; deterministic given its start position. */
export interface SegmentSource {
  /**
   * The next segment of exactly the run's length; a promise for a source that reads files as it
   * goes (`segmentSource(StreamingSegments)`). The loop awaits each before asking for the next.
   */
  next(): Int32Array | Promise<Int32Array>;
  /** JSON-serialisable position after the segments handed out so far. */
  position(): unknown;
}

/** What a sequence-parallel run needs of a process group (src/dist's ProcessGroup has it). */
export interface TrainGroup extends NativeGroupRunner {
  barrier(): Promise<void>;
}

/** One line of metrics.jsonl. */
export interface StepMetrics {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
}

/** Options of a training run. */
export interface FinetuneOptions extends JobOptions {
  /** Model directory to start from (ignored on resume: the checkpoint's weights are used). */
  modelDir: string;
  out: string;
  /** Segment length in tokens. */
  length: number;
  /** RoPE applied throughout (the extended factors); written into the output config. */
  rope: RopeSpec;
  steps: number;
  schedule: Schedule;
  globalBatch: number;
  microBatch: number;
  clip?: number;
  checkpointing?: boolean;
  checkpointEvery: number;
  /**
   * Mixed context window training (LongRoPE2): every `every`-th step trains on the first `length`
   * tokens of its segments, a length within the original window, so a longrope spec applies its
   * short factors there (the RoPE tables follow the sequence length) and its long factors on the
   * other steps. The data order is unchanged (the same segments, cut).
   */
  mixedShort?: { length: number; every: number };
  keepCheckpoints?: number;
  optimizer?: OptimizerOptions;
  /** 'cpu' (default) or 'cuda[:N]'. On CUDA the weights are held in fp32 and steps run under bf16 autocast. */
  device?: string;
  /** Continue the run in `out` from its latest checkpoint. */
  resume?: boolean;
  /** Builds the data source, from a saved position when resuming. */
  data: (position: unknown | undefined) => SegmentSource | Promise<SegmentSource>;
  /** Extra fields recorded in run.json and compared on resume (data description, seed, ...). */
  runInfo?: Record<string, unknown>;
  /** Save dtype of the final model (default: the base config's torch_dtype). */
  saveDtype?: 'float32' | 'bfloat16';
  onStep?: (metrics: StepMetrics) => void;
  /** Called once a checkpoint is complete on disk (its step); a kill after it loses nothing. */
  onCheckpoint?: (step: number) => void | Promise<void>;
  /**
   * Run every step sequence-parallel over this group's ranks (see the module comment). Every rank
   * calls finetune() with the same options; only rank 0 writes, calls onStep and onCheckpoint.
   */
  sequenceParallel?: TrainGroup;
}

/** What a finished run reports. */
export interface FinetuneResult {
  steps: number;
  finalLoss: number;
  metricsFile: string;
  resumedFrom: number | null;
  /** True when `resume` found the run already finished: nothing was trained or written. */
  alreadyFinished?: boolean;
}

function runSignature(o: FinetuneOptions, baseConfig: string): Record<string, unknown> {
  return {
    baseConfigSha256: crypto.createHash('sha256').update(baseConfig).digest('hex'),
    length: o.length, rope: o.rope, steps: o.steps, schedule: o.schedule, globalBatch: o.globalBatch,
    microBatch: o.microBatch, clip: o.clip ?? 1, checkpointing: o.checkpointing ?? false,
    optimizer: o.optimizer ?? {}, ...(o.mixedShort ? { mixedShort: o.mixedShort } : {}), ...(o.runInfo ?? {}),
  };
}

/**
 * Refuses an `out` that would lose or corrupt something: the input model itself (or a folder
 * inside it, or one holding it), a folder with other files in it, a file, a pseudo file system.
 * An empty folder, a missing one, or an earlier run (its training/run.json) is fine.
 */
function checkOut(out: string, modelDir: string): void {
  checkOutputPath(out, '--out', 'dir');
  const model = fs.realpathSync(modelDir);
  const target = fs.existsSync(out) ? fs.realpathSync(out) : path.resolve(out);
  const inside = (a: string, b: string) => a === b || a.startsWith(b + path.sep);
  if (inside(target, model) || inside(model, target)) {
    throw inputError(undefined, '--out', `a folder apart from --model (${modelDir})`, `${JSON.stringify(out)}, which ${target === model ? 'is' : inside(target, model) ? 'is inside' : 'holds'} it`);
  }
  if (!fs.existsSync(out) || fs.existsSync(path.join(out, 'training', 'run.json'))) return;
  const entries = fs.readdirSync(out);
  if (entries.length > 0) {
    throw inputError(undefined, '--out', 'an empty or new folder, or an earlier run of these settings', `${JSON.stringify(out)}, which holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''} (nothing was overwritten)`);
  }
}

/** Refuses to start over an existing run, or to resume one with different settings. */
function checkRun(trainingDir: string, signature: Record<string, unknown>, resume: boolean): void {
  const file = path.join(trainingDir, 'run.json');
  if (!fs.existsSync(file)) {
    if (resume && fs.existsSync(trainingDir)) throw new Error(`${trainingDir}: no run.json: nothing to resume`);
    return;
  }
  if (!resume) {
    throw new Error(`${path.dirname(trainingDir)} already holds a training run; pass --resume to continue it or choose another --out (nothing was overwritten)`);
  }
  const saved = readJsonFile(file) as Record<string, unknown>;
  checkResumeSignature(file, 'run', saved, signature);
}

/** The torch_dtype the base model's config.json names (the default save dtype). */
function baseDtype(baseConfig: string): 'float32' | 'bfloat16' | 'float16' {
  return parseModelConfig(JSON.parse(baseConfig), 'config.json').torchDtype;
}

/** Drops metric lines past the checkpoint a resume starts from (they will be recomputed). */
function truncateMetrics(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const kept = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() && (JSON.parse(l) as StepMetrics).step <= step);
  writeFileAtomic(file, kept.map((l) => l + '\n').join(''));
}

/** Runs (or resumes) a training run; see the module comment. */
export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  validateSchedule(o.schedule);
  if (o.mixedShort && !(Number.isInteger(o.mixedShort.length) && o.mixedShort.length >= 2 && o.mixedShort.length < o.length &&
    Number.isInteger(o.mixedShort.every) && o.mixedShort.every >= 1)) {
    throw new TypeError(`Expected {length: 2..${o.length - 1}, every: a positive integer} for mixedShort but received ${JSON.stringify(o.mixedShort)}`);
  }
  if (!Number.isInteger(o.globalBatch) || !Number.isInteger(o.microBatch) || o.microBatch < 1 || o.globalBatch % o.microBatch !== 0) {
    throw new TypeError(`Expected a global batch that is a multiple of the micro-batch for globalBatch but received ${o.globalBatch} (micro-batch ${o.microBatch})`);
  }
  const trainingDir = path.join(o.out, 'training');
  const group = o.sequenceParallel && o.sequenceParallel.worldSize > 1 ? o.sequenceParallel : undefined;
  const writer = (group?.rank ?? 0) === 0;
  const baseConfig = fs.readFileSync(path.join(o.modelDir, 'config.json'), 'utf8');
  const signature = runSignature(o, baseConfig);
  if (writer) {
    checkOut(o.out, o.modelDir);
    checkRun(trainingDir, signature, o.resume ?? false);
  }
  // An existing run is locked before it is read: two resumes of one run never both proceed.
  let lock = writer && fs.existsSync(trainingDir) ? RunLock.acquire(trainingDir) : null;
  try {
    const checkpoints = new CheckpointDir(path.join(trainingDir, 'checkpoints'));
    const latest = o.resume ? checkpoints.latest() : null;
    const metricsFile = path.join(trainingDir, 'metrics.jsonl');
    if (latest && latest.state.step >= o.steps && fs.existsSync(path.join(o.out, 'model.safetensors'))) {
      return { steps: latest.state.step, finalLoss: lastLoss(metricsFile), metricsFile, resumedFrom: latest.state.step, alreadyFinished: true };
    }
    // Before anything is written or loaded: bad data (a missing file, too little text) fails the
    // run while `out` is untouched, so a corrected rerun is not refused as an existing run.
    const data = await o.data(latest?.state.dataPosition);
    if (writer) {
      fs.mkdirSync(trainingDir, { recursive: true });
      lock ??= RunLock.acquire(trainingDir);
      writeFileAtomic(path.join(trainingDir, 'run.json'), JSON.stringify(signature, null, 2) + '\n');
    }
    // The other ranks start once rank 0 has checked and claimed `out` (a refusal there ends the
    // job: its exit fails their barrier).
    await group?.barrier();
    return await trainSteps(o, checkpoints, latest, data, metricsFile, baseConfig, group);
  } finally {
    lock?.release();
  }
}

/** The last loss in metrics.jsonl (NaN when there is none). */
function lastLoss(metricsFile: string): number {
  const lines = fs.existsSync(metricsFile) ? fs.readFileSync(metricsFile, 'utf8').trim().split('\n').filter(Boolean) : [];
  return lines.length ? (JSON.parse(lines[lines.length - 1]) as StepMetrics).loss : NaN;
}

async function trainSteps(
  o: FinetuneOptions,
  checkpoints: CheckpointDir,
  latest: ReturnType<CheckpointDir['latest']>,
  data: SegmentSource,
  metricsFile: string,
  baseConfig: string,
  group: TrainGroup | undefined,
): Promise<FinetuneResult> {
  const writer = (group?.rank ?? 0) === 0;
  // fp32 weights on every device: they are AdamW's master copy (CUDA computes in bf16 by autocast).
  const model = await Model.load(latest ? path.join(latest.dir, 'model') : o.modelDir, { signal: o.signal, device: o.device, dtype: 'float32' });
  const trainer = new Trainer(model, o.optimizer);
  let state: CheckpointState = { step: 0, dataPosition: undefined, tokens: 0, elapsedSeconds: 0 };
  if (latest) {
    await trainer.loadOptimizer(latest.dir);
    state = latest.state;
    if (writer) truncateMetrics(metricsFile, state.step);
  } else if (writer) {
    fs.rmSync(metricsFile, { force: true });
  }
  const accumulation = o.globalBatch / o.microBatch;
  const bar = progressBar('train', o.steps, { loss: '-', 'tok/s': '-' }, { enabled: writer });
  bar.update(state.step);
  const started = Date.now() - state.elapsedSeconds * 1000;
  let last: StepMetrics | undefined;
  try {
    while (state.step < o.steps) {
      const micro: Int32Array[][] = [];
      for (let m = 0; m < accumulation; m++) {
        const batch: Int32Array[] = [];
        // Strictly one after another: the order (and the saved position) is the source's order.
        for (let b = 0; b < o.microBatch; b++) batch.push(await data.next());
        micro.push(batch);
      }
      if (o.mixedShort && (state.step + 1) % o.mixedShort.every === 0) {
        for (const batch of micro) batch.forEach((seg, i) => { batch[i] = seg.subarray(0, o.mixedShort!.length); });
      }
      const lr = learningRate(o.schedule, state.step);
      const t0 = Date.now();
      const r = await trainer.step(micro, { rope: o.rope, lr, clip: o.clip, checkpointing: o.checkpointing, signal: o.signal, sequenceParallel: group });
      state = { step: state.step + 1, dataPosition: data.position(), tokens: state.tokens + r.tokens, elapsedSeconds: (Date.now() - started) / 1000 };
      last = { step: state.step, loss: r.loss, lr, gradNorm: r.gradNorm, tokens: state.tokens,
        tokensPerSecond: r.tokens / Math.max(1e-3, (Date.now() - t0) / 1000), elapsedSeconds: state.elapsedSeconds };
      bar.update(state.step, { loss: last.loss.toFixed(4), 'tok/s': Math.round(last.tokensPerSecond) });
      if (!writer) continue;  // every rank holds the same weights and optimizer state; rank 0 writes them
      fs.appendFileSync(metricsFile, JSON.stringify(last) + '\n');
      o.onStep?.(last);
      if (state.step % o.checkpointEvery === 0 || state.step === o.steps) {
        await checkpoints.write(state, async (dir) => {
          await model.save(path.join(dir, 'model'), { rope: o.rope, dtype: 'float32' });
          await trainer.saveOptimizer(dir);
        }, o.keepCheckpoints ?? 2);
        await o.onCheckpoint?.(state.step);
      }
    }
    // The base model's dtype, not the checkpoint's (fp32): a resumed run saves what an
    // uninterrupted one does.
    if (writer) await model.save(o.out, { rope: o.rope, dtype: o.saveDtype ?? baseDtype(baseConfig) });
    // Nobody reports done (and a launcher's next command starts) before the files exist.
    await group?.barrier();
  } finally {
    bar.stop();
    trainer.dispose();
    model.dispose();
  }
  return { steps: state.step, finalLoss: last?.loss ?? NaN, metricsFile, resumedFrom: latest ? latest.state.step : null };
}
