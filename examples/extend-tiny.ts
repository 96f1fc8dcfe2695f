/**
 * A training script on longrope's public API, the four steps of LongRoPE on the bundled tiny model
 * (context 256, extended 8x to 2048). The same calls extend a 7B model: change the paths and lengths.
 *   1. search per-frequency rescale factors at the target length (resumable);
 *   2. fine-tune at the target length with those factors (checkpointed, resumable);
 *   3. evaluate held-out perplexity and passkey retrieval, before and after fine-tuning;
 *   4. export a Hugging Face folder with rope_scaling: longrope (transformers and vLLM load it).
 *
 *   npm run setup && npx ts-node --transpile-only examples/extend-tiny.ts [out-dir]
 *
 * 9 minutes on 2 cores shared with another job (held-out perplexity at 2048: 4.15 with the searched
 * factors, 3.80 after the 30 fine-tuning steps; passkey 0% at both lengths, before and after: this
 * short a fine-tune does not teach the tiny model retrieval). Rerun, every step resumes.
 * EXAMPLE_QUICK=1 shrinks every budget to seconds (the test does so) and EXAMPLE_TARGET changes the
 * target length.
 */
import fs from 'fs';
import path from 'path';

import { data, evaluation, exportModel, finetune, Model, search } from 'longrope';

const quick = process.env.EXAMPLE_QUICK === '1';
const modelDir = path.join(__dirname, '..', 'models', 'tiny-base');
const out = path.resolve(process.argv[2] ?? path.join(__dirname, '..', '.runs', 'example'));

async function main(): Promise<void> {
  const base = await Model.load(modelDir);
  const original = base.config.rope.originalLength;
  const target = Number(process.env.EXAMPLE_TARGET ?? 8 * original);
  const tokenizer = new data.ByteTokenizer();
  // Documents for the search and the evaluation, kept apart: even ones search, odd ones are held out.
  const docs = (await data.evalDocuments()).map((d) => Int32Array.from(tokenizer.encode(d.text, { addBos: false })));
  const searchDocs = docs.filter((_, i) => i % 2 === 0);
  const heldOut = docs.filter((_, i) => i % 2 === 1);

  // 1. The evolutionary search; fitness = perplexity at the target length on `samples` documents.
  const fitness = search.perplexityFitness(base, searchDocs, { length: target, samples: quick ? 1 : 3, seed: 0 });
  const found = await search.runSearch({
    fitness, out: path.join(out, 'search'), resume: true,
    space: { base: base.config.rope, targetLength: target },
    settings: quick ? { population: 4, parents: 2, mutations: 2, crossovers: 2, iterations: 1 } : { population: 16, parents: 8, mutations: 8, crossovers: 8, iterations: 4 },
    onGeneration: (g) => console.log(`search: generation ${g.generation}, best perplexity ${g.best.toFixed(3)}`),
  });
  const rope = found.bestSpec;
  fs.writeFileSync(path.join(out, 'rope.json'), JSON.stringify(rope, null, 2));

  // 2. Fine-tune at the target length with the searched factors (the paper: 400 steps, lr 2e-5).
  const steps = quick ? 2 : 30;
  const tuned = path.join(out, 'finetuned');
  const run = await finetune({
    modelDir, out: tuned, length: target, rope, resume: fs.existsSync(tuned),
    steps, globalBatch: 2, microBatch: 1, checkpointEvery: 10,
    schedule: { kind: 'linear', lr: 2e-4, warmupSteps: Math.min(5, steps - 1), totalSteps: steps },
    // The tiny model's own training text with passkey sequences mixed in; resumes where it stopped.
    data: (position) => data.pretrainingStream({ tokenizer, length: target, position: position as data.PretrainingPosition | undefined }),
    onStep: (m) => console.log(`finetune: step ${m.step}, loss ${m.loss.toFixed(3)}, ${Math.round(m.tokensPerSecond)} tokens/s`),
  });
  console.log(`finetune: ${run.steps} steps, final loss ${run.finalLoss.toFixed(3)}`);

  // 3. Held-out perplexity and passkey accuracy at the original and the target length.
  const lengths = [original, target];
  const report = async (name: string, model: Model): Promise<void> => {
    const ppl = await evaluation.evaluatePerplexity(model, heldOut, { lengths, rope, samples: quick ? 2 : 8, seed: 0 });
    const passkey = await evaluation.evaluatePasskey(model, tokenizer, { lengths, rope, trials: quick ? 1 : 5 });
    for (let i = 0; i < lengths.length; i++) {
      console.log(`${name} at ${lengths[i]}: perplexity ${ppl[i].ppl.toFixed(3)}, passkey ${Math.round(passkey[i].accuracy * 100)}%`);
    }
  };
  await report('searched factors, base model', base);
  const model = await Model.load(tuned);
  await report('searched factors, fine-tuned', model);

  // 4. A Hugging Face folder: the fine-tuned weights, rope_scaling: longrope with the factors.
  const exported = path.join(out, 'exported');
  fs.rmSync(exported, { recursive: true, force: true });
  const { config, warnings } = exportModel(tuned, rope, exported, { search: path.join(out, 'search') });
  const scaling = config.rope_scaling as { rope_type: string; long_factor: number[] };
  console.log(`exported ${exported}: rope_scaling ${scaling.rope_type}, ${scaling.long_factor.length} long factors`);
  for (const w of warnings) console.log(`export: ${w}`);
  base.dispose();
  model.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
