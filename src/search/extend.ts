/**
 * Progressive extension (paper section 3.3) as one resumable job:
 *   1. search factors at the fine-tuning length on the base model;
 *   2. fine-tune at that length with them;
 *   3. search again on the fine-tuned model for the final length (a secondary extension);
 *   4. optionally, short-context recovery: a search at the original window, with a smaller
 *      maximum factor, for the short factors;
 *   5. export the fine-tuned weights with the final spec (short factors up to the original
 *      window, long ones beyond) as a Hugging Face directory.
 * Each stage lives in its own folder of `out` and is skipped when finished, resumed when started.
 */
import fs from 'fs';
import path from 'path';

import { exportModel } from '../model/export';
import { Model } from '../model/model';
import type { RopeSpec } from '../rope/types';
import { finetune, type FinetuneOptions, type FinetuneResult } from '../train/finetune';
import type { EvaluationEvent, EvolveSettings, GenerationLog, ScreeningSettings } from './evolve';
import { perplexityFitness } from './fitness';
import { runSearch, type SearchResult } from './run';
import type { SpaceOptions } from './space';

/** The stages, in order. */
export type ExtendStage = 'search' | 'finetune' | 'secondary-search' | 'recovery' | 'export';

/** The stages that search. */
export type SearchStage = Extract<ExtendStage, 'search' | 'secondary-search' | 'recovery'>;

/** Options of {@link extend}. */
export interface ExtendOptions {
  modelDir: string;
  out: string;
  /** Stage 1's target and the fine-tuning length. */
  finetuneLength: number;
  /** Stage 3's target: the final extended length. */
  targetLength: number;
  /** Tokenized documents for the perplexity fitness (ids without BOS). */
  documents: Int32Array[];
  samples: number;
  seed: number;
  settings?: Partial<EvolveSettings>;
  /** Multi-fidelity screening in every search (off by default: the paper's search). */
  screening?: ScreeningSettings;
  /**
   * Per-stage overrides of `settings` and `samples` (e.g. a cheaper secondary search, whose
   * evaluations cost (target / finetuneLength)^2 times more than the first search's).
   */
  stageSearch?: Partial<Record<SearchStage, { settings?: Partial<EvolveSettings>; samples?: number }>>;
  space?: Pick<SpaceOptions, 'maxFactor' | 'searchNHat' | 'searchAttention' | 'criticalDim'>;
  /** Stage 2's training settings (the model, output, RoPE and length come from the stages). */
  finetune: Omit<FinetuneOptions, 'modelDir' | 'out' | 'rope' | 'length' | 'resume'>;
  /** Short-context recovery: the largest short factor (default: no recovery stage). */
  recoveryMaxFactor?: number;
  /** Continue a job in `out` (each stage resumes or is skipped). */
  resume?: boolean;
  signal?: AbortSignal;
  onStage?: (stage: ExtendStage, status: 'start' | 'done' | 'skipped') => void;
  onGeneration?: (stage: ExtendStage, g: GenerationLog) => void;
  onEvaluation?: (stage: ExtendStage, e: EvaluationEvent) => void;
}

/** What {@link extend} produced. */
export interface ExtendResult {
  search: SearchResult;
  finetune: FinetuneResult;
  secondary: SearchResult;
  recovery: SearchResult | null;
  finalSpec: RopeSpec;
  modelDir: string;
}

/**
 * One search stage of {@link extend} on the model in `modelDir`, in `dir` (resumed when it holds
 * a search). Exported so a caller can run stage 1 ahead of the job, or a further secondary search
 * on the fine-tuned model, with exactly the signature `extend` gives it (so `extend` reuses it).
 */
export async function extensionSearch(o: ExtendOptions, stage: SearchStage, modelDir: string, space: Omit<SpaceOptions, 'base'>, dir: string): Promise<SearchResult> {
  const model = await Model.load(modelDir, { signal: o.signal });
  const own = o.stageSearch?.[stage];
  const samples = own?.samples ?? o.samples;
  try {
    const fitness = perplexityFitness(model, o.documents, { length: space.targetLength, samples, seed: o.seed });
    return await runSearch({
      fitness, out: dir, resume: fs.existsSync(path.join(dir, 'search.json')), settings: { seed: o.seed, ...o.settings, ...own?.settings },
      screening: o.screening,
      space: { base: model.config.rope, ...o.space, ...space }, signal: o.signal,
      signature: { stage, model: model.config.raw, samples },
      onGeneration: (g) => o.onGeneration?.(stage, g),
      onEvaluation: o.onEvaluation && ((e) => o.onEvaluation!(stage, e)),
    });
  } finally {
    model.dispose();
  }
}

/** Runs (or resumes) the progressive extension; see the module comment. */
export async function extend(o: ExtendOptions): Promise<ExtendResult> {
  if (!(o.targetLength > o.finetuneLength)) throw new Error(`Expected a target length above the fine-tuning length ${o.finetuneLength} but received ${o.targetLength}`);
  if (fs.existsSync(o.out) && fs.readdirSync(o.out).length > 0 && !o.resume) {
    throw new Error(`${o.out} already holds files; pass --resume to continue the job or choose another --out (nothing was overwritten)`);
  }
  const dir = (name: string) => path.join(o.out, name);
  const step = async <T>(stage: ExtendStage, run: () => Promise<T>): Promise<T> => {
    o.onStage?.(stage, 'start');
    const r = await run();
    o.onStage?.(stage, 'done');
    return r;
  };
  const search = await step('search', () => extensionSearch(o, 'search', o.modelDir, { targetLength: o.finetuneLength }, dir('1-search')));
  const tuned = dir('2-finetune');
  const ft = await step('finetune', () => finetune({
    ...o.finetune, modelDir: o.modelDir, out: tuned, rope: search.bestSpec, length: o.finetuneLength,
    resume: fs.existsSync(path.join(tuned, 'training', 'run.json')), signal: o.signal,
  }));
  const secondary = await step('secondary-search', () => extensionSearch(o, 'secondary-search', tuned, { targetLength: o.targetLength }, dir('3-search')));
  let finalSpec = secondary.bestSpec;
  let recovery: SearchResult | null = null;
  if (o.recoveryMaxFactor !== undefined) {
    const L = search.bestSpec.originalLength;
    recovery = await step('recovery', () => extensionSearch(o, 'recovery', tuned, {
      targetLength: L, role: 'short', longSpec: secondary.bestSpec, maxFactor: o.recoveryMaxFactor, searchNHat: false, searchAttention: false,
    }, dir('4-recovery')));
    finalSpec = recovery.bestSpec;
  }
  const exported = dir('model');
  if (fs.existsSync(path.join(exported, 'config.json'))) {
    o.onStage?.('export', 'skipped');
  } else {
    fs.rmSync(exported, { recursive: true, force: true });  // a copy a kill interrupted
    await step('export', async () => exportModel(tuned, finalSpec, exported, {
      job: 'longrope extend', finetuneLength: o.finetuneLength, targetLength: o.targetLength, recovery: o.recoveryMaxFactor ?? null,
    }));
  }
  return { search, finetune: ft, secondary, recovery, finalSpec, modelDir: exported };
}
