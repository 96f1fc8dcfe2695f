/**
 * `npm run eval-base`: the bundled tiny base model's held-out figures, written to
 * models/tiny-base/eval.json: per-byte perplexity on the evaluation split (New Testament + held-out
 * Brown) at its own context (256, sliding window, stride 256) and, with no RoPE scaling, at
 * 512-4096 (one window per document: it should blow up, the problem LongRoPE solves); passkey
 * retrieval accuracy at 256 (and, unscaled, beyond).
 */
import { Command } from 'commander';
import fs from 'fs';
import path from 'path';

import { evalDocuments } from '../src/data';
import { evaluatePasskey, evaluatePerplexity } from '../src/eval';
import { Model } from '../src/model/model';
import { ByteTokenizer } from '../src/data/tokenizer';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const o = new Command('eval-base')
    .option('--model <dir>', 'model directory', path.join(ROOT, 'models', 'tiny-base'))
    .option('--samples <n>', 'evaluation documents drawn (seeded)', '16')
    .option('--trials <n>', 'passkey trials at 256', '50')
    .parse()
    .opts();
  const model = await Model.load(o.model);
  const tokenizer = new ByteTokenizer();
  const docs = (await evalDocuments()).map((d) => Int32Array.from(tokenizer.encode(d.text, { addBos: false })));
  const samples = Number(o.samples);
  const t0 = Date.now();
  const own = await evaluatePerplexity(model, docs, { lengths: [256], stride: 256, samples, seed: 0 });
  const longer = await evaluatePerplexity(model, docs, { lengths: [512, 1024, 2048, 4096], truncate: true, samples, seed: 0 });
  const passkey256 = await evaluatePasskey(model, tokenizer, { lengths: [256], trials: Number(o.trials), seed: 0 });
  const passkeyLonger = await evaluatePasskey(model, tokenizer, { lengths: [512, 1024], trials: 10, seed: 0 });
  model.dispose();
  const strip = <T extends object>(r: T) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'details'));
  const result = {
    model: path.relative(ROOT, o.model),
    perplexityPerByte: {
      protocol: `evaluation split, ${samples} documents (seed 0); 256: sliding window stride 256; longer: one window per document (truncate), no RoPE scaling`,
      results: [...own, ...longer],
    },
    passkey: { protocol: 'spec prompt, exact length in bytes, greedy 8 tokens, seed 0', results: [...passkey256, ...passkeyLonger].map(strip) },
    seconds: Math.round((Date.now() - t0) / 1000),
  };
  fs.writeFileSync(path.join(o.model, 'eval.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
