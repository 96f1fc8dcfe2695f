/**
 * `longrope extend`: progressive extension in one resumable command: search at the fine-tuning
 * length, fine-tune there, search again for the final length, optionally recover short-context
 * quality with short factors, and export the result (see src/search/extend.ts).
 */
import type { Command } from 'commander';

import { checkOutputPath } from '../common/files';
import { encodeDocument } from '../data/chunking';
import { listDataFiles, readDocuments } from '../data/readers';
import { loadTokenizer } from '../data/tokenizer';
import { readModelConfig } from '../model/config';
import { extend } from '../search/extend';
import { RECIPES } from '../train/schedule';
import { dataSource } from './finetune-command';
import { parsePositiveInt, parsePositiveNumber } from './rope-arg';
import { parseSearchSizes, withSearchSizeOptions, type SearchSizeFlags } from './search-options';

interface ExtendFlags extends SearchSizeFlags {
  model: string;
  data: string[];
  textField: string;
  finetuneLength: string;
  targetLength: string;
  out: string;
  steps: string;
  resume?: boolean;
  lr?: string;
  globalBatch: string;
  microBatch: string;
  checkpointEvery: string;
  recoveryMaxFactor?: string;
  json?: boolean;
}

/** Registers `extend` on the CLI program. */
export function registerExtendCommand(program: Command): void {
  withSearchSizeOptions(program.command('extend'))
    .description('progressive extension: search at the fine-tuning length, fine-tune, search for the target length, (recover short context), export')
    .requiredOption('--model <dir>', 'Hugging Face model directory (the base model)')
    .requiredOption('--data <paths...>', 'text/JSONL/Parquet files or folders: fitness samples and fine-tuning data')
    .option('--text-field <name>', 'JSONL/Parquet field holding the text', 'text')
    .requiredOption('--finetune-length <n>', 'length of the first search and of fine-tuning')
    .requiredOption('--target-length <n>', 'the final length (the secondary search\'s target)')
    .requiredOption('--out <dir>', 'job directory (one folder per stage; the model in OUT/model)')
    .requiredOption('--steps <k>', 'fine-tuning steps')
    .option('--resume', 'continue the job in --out')
    .option('--lr <x>', 'peak learning rate (default the LLaMA recipe: 2e-5 linear)')
    .option('--global-batch <n>', 'segments per optimizer step', '32')
    .option('--micro-batch <n>', 'segments per forward/backward', '1')
    .option('--checkpoint-every <n>', 'fine-tuning steps between checkpoints', '50')
    .option('--recovery-max-factor <x>', 'short-context recovery: search short factors up to this bound at the original window')
    .option('--json', 'print the result as JSON')
    .action(async (f: ExtendFlags) => {
      const config = readModelConfig(f.model);
      const finetuneLength = parsePositiveInt(f.finetuneLength, '--finetune-length');
      const targetLength = parsePositiveInt(f.targetLength, '--target-length');
      const L = config.rope.originalLength;
      if (finetuneLength <= L) throw new Error(`Expected a --finetune-length above the original window ${L} but received ${finetuneLength}`);
      if (targetLength <= finetuneLength) throw new Error(`Expected a --target-length above --finetune-length ${finetuneLength} but received ${targetLength}`);
      const steps = parsePositiveInt(f.steps, '--steps');
      const { settings, samples, seed, screening } = parseSearchSizes(f);
      const recoveryMaxFactor = f.recoveryMaxFactor === undefined ? undefined : parsePositiveNumber(f.recoveryMaxFactor, '--recovery-max-factor');
      checkOutputPath(f.out, '--out', 'dir');
      listDataFiles(f.data);
      const tokenizer = await loadTokenizer(f.model);
      const documents: Int32Array[] = [];
      for await (const d of readDocuments(f.data, { textField: f.textField })) documents.push(encodeDocument(tokenizer, d));
      const recipe = RECIPES.llama.schedule;
      const result = await extend({
        modelDir: f.model, out: f.out, finetuneLength, targetLength, documents, seed, resume: Boolean(f.resume),
        samples, settings, screening,
        recoveryMaxFactor,
        finetune: {
          steps,
          schedule: { ...recipe, lr: f.lr === undefined ? recipe.lr : parsePositiveNumber(f.lr, '--lr'), warmupSteps: Math.min(recipe.warmupSteps, steps), totalSteps: steps },
          globalBatch: parsePositiveInt(f.globalBatch, '--global-batch'), microBatch: parsePositiveInt(f.microBatch, '--micro-batch'),
          checkpointEvery: parsePositiveInt(f.checkpointEvery, '--checkpoint-every'),
          runInfo: { data: f.data, seed },
          data: (position) => dataSource({ paths: f.data, textField: f.textField, tokenizer, length: finetuneLength, seed, shuffleBuffer: 1024 }, position),
        },
        onStage: (stage, status) => { if (!f.json) console.error(`stage ${stage}: ${status}`); },
        onGeneration: (stage, g) => { if (!f.json && !process.stderr.isTTY) console.error(`  ${stage} generation ${g.generation}: best ${g.best.toFixed(4)}`); },
      });
      const summary = {
        model: result.modelDir, finalSpec: result.finalSpec,
        search: { best: result.search.bestFitness, evaluations: result.search.evaluations },
        finetune: { steps: result.finetune.steps, finalLoss: result.finetune.finalLoss },
        secondary: { best: result.secondary.bestFitness, evaluations: result.secondary.evaluations },
        recovery: result.recovery && { best: result.recovery.bestFitness, evaluations: result.recovery.evaluations },
      };
      if (f.json) console.log(JSON.stringify(summary, null, 2));
      else console.log(`extended model in ${result.modelDir}: ${finetuneLength} fine-tuned, ${targetLength} searched (best ppl ${result.secondary.bestFitness.toFixed(4)})`);
    });
}
