/**
 * `npm run train-base`: trains the bundled tiny base model and writes it (Hugging Face format,
 * bf16, with its training log). LLaMA architecture: byte vocabulary (256 bytes + BOS + EOS),
 * context 256, d = 256, 4 layers, 4 heads of 64 (32 rotary frequencies), SwiGLU 704, RoPE base
 * 10000: ~3.3M parameters. Data: the training split (Old Testament + 450 Brown files) with a
 * share of synthetic passkey sequences (and, with --copy-drills, copy drills) mixed in.
 * models/tiny-base is three stages of this script (exact commands in models/tiny-base/README.md):
 * the defaults (stage 1: from scratch, 1000 steps, [BOS..EOS] segments of 256), then two
 * continuations from the previous stage (--init) on EOS-free segments of 257 (--continuous
 * --segment 257) with 50% synthetic data, the last at batch 4: the retrieval (induction) circuit
 * formed only after ~10M more tokens, as the induction-head literature predicts.
 * Seeded; resumable with --resume.
 */
import { Command } from 'commander';
import fs from 'fs';
import path from 'path';

import { pretrainingStream, type PretrainingPosition } from '../src/data';
import { BYTE_TOKENIZER_CLASS, ByteTokenizer } from '../src/data/tokenizer';
import { readModelConfig } from '../src/model/config';
import { finetune } from '../src/train/finetune';
import { writeRandomModel } from './lib/random-model';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const o = new Command('train-base')
    .option('--out <dir>', 'where the finished model goes', path.join(ROOT, 'models', 'tiny-base'))
    .option('--run <dir>', 'working directory (checkpoints, metrics)', path.join(ROOT, '.runs', 'tiny-base'))
    .option('--steps <n>', 'optimizer steps', '1000')
    .option('--schedule-steps <n>', 'length of the cosine schedule, if longer than --steps (a run stopped early, reproducibly)')
    .option('--batch <n>', 'segments per step', '16')
    .option('--lr <x>', 'peak learning rate', '2e-3')
    .option('--synthetic <share>', 'share of synthetic segments (passkey sequences, and copy drills with --copy-drills)', '0.2')
    .option('--seed <n>', 'seed of everything', '1234')
    .option('--copy-drills', 'half of the synthetic share as copy drills (an experimental retrieval curriculum)')
    .option('--init <dir>', 'start from this model instead of random weights (a later training stage)')
    .option('--warmup <n>', 'warmup steps', '50')
    .option('--segment <n>', 'tokens per training segment (context + 1 lets all 256 positions predict)', '256')
    .option('--continuous', 'cut segments from the text stream anywhere, no EOS closing each (no position tied to EOS)')
    .option('--resume', 'continue the run in --run')
    .parse()
    .opts();
  const seed = Number(o.seed);
  const init = path.join(o.run, 'init');
  if (!o.resume) {
    fs.rmSync(o.run, { recursive: true, force: true });
    if (o.init) {
      fs.mkdirSync(init, { recursive: true });
      for (const f of ['config.json', 'model.safetensors', 'tokenizer_config.json']) fs.copyFileSync(path.join(o.init, f), path.join(init, f));
    } else {
      writeRandomModel(init, { vocabSize: 258, hiddenSize: 256, intermediateSize: 704, numLayers: 4, numHeads: 4,
        maxPositionEmbeddings: 256, seed });
      fs.writeFileSync(path.join(init, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: BYTE_TOKENIZER_CLASS }, null, 2) + '\n');
    }
  }
  const config = readModelConfig(init);
  const tokenizer = new ByteTokenizer();
  const steps = Number(o.steps);
  const segment = Number(o.segment);
  const closeWithEos = !o.continuous;
  const started = Date.now();
  const result = await finetune({
    modelDir: init,
    out: o.run,
    length: segment,
    rope: config.rope,
    steps,
    schedule: { kind: 'cosine', lr: Number(o.lr), warmupSteps: Number(o.warmup), totalSteps: Number(o.scheduleSteps ?? steps), minFraction: 0.1 },
    globalBatch: Number(o.batch),
    microBatch: Number(o.batch),
    clip: 1,
    checkpointEvery: 100,
    optimizer: { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 },
    resume: o.resume ?? false,
    saveDtype: 'bfloat16',
    runInfo: { data: 'train split + synthetic passkey', syntheticShare: Number(o.synthetic), copyDrills: o.copyDrills ?? false,
      seed, init: o.init ?? 'random', closeWithEos },
    data: (position) => pretrainingStream({
      tokenizer, length: segment, seed, syntheticShare: Number(o.synthetic), copyDrills: o.copyDrills ?? false, closeWithEos,
      position: position as PretrainingPosition | undefined,
    }),
    onStep: (m) => {
      if (!process.stderr.isTTY && (m.step % 25 === 0 || m.step === 1)) {
        console.error(`step ${m.step}/${steps} loss ${m.loss.toFixed(4)} lr ${m.lr.toExponential(2)} ${Math.round(m.tokensPerSecond)} tok/s`);
      }
    },
  });
  fs.mkdirSync(o.out, { recursive: true });
  for (const f of ['config.json', 'model.safetensors', 'tokenizer_config.json']) fs.copyFileSync(path.join(o.run, f), path.join(o.out, f));
  fs.copyFileSync(result.metricsFile, path.join(o.out, 'training-log.jsonl'));
  const minutes = (Date.now() - started) / 60000;
  console.log(JSON.stringify({ steps: result.steps, finalLoss: result.finalLoss, minutes, out: o.out }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
