/**
 * `npm run demo` (the end-to-end job arrives with part 7/8). For now: what each RoPE scaling
 * method does to LLaMA-2's frequencies for a 4k -> 128k extension, expressed as LongRoPE factors
 * (lambda_i = inv_i / inv'_i); the fused native kernel against the reference once; and the bundled
 * tiny model (context 256) evaluated beyond its window with and without RoPE scaling.
 */
import path from 'path';

import { evalDocuments } from '../src/data';
import { evaluatePerplexity } from '../src/eval';
import { Model } from '../src/model/model';
import { applyRotary } from '../src/model/rotary';
import { loadTokenizer } from '../src/data/tokenizer';
import { native } from '../src/native';
import { computeRopeTables, methodToLongropeFactors, type RopeSpec } from '../src/rope';

const BASE: Omit<RopeSpec, 'method'> = { headDim: 128, base: 10000, originalLength: 4096, length: 131072 };
const METHODS = ['none', 'linear', 'ntk', 'yarn', 'llama3'] as const;
const DIMS = [0, 8, 16, 20, 24, 32, 40, 46, 48, 56, 63];

async function main(): Promise<void> {
  const info = native().runtimeInfo();
  console.log(`longrope demo: libtorch ${info.torchVersion}, ${info.threads} threads, CUDA ${info.cudaDevices > 0 ? 'yes' : 'no'}`);
  console.log(`LLaMA-2 rotary dims (d = 128, base 1e4): ${BASE.originalLength} -> ${BASE.length} tokens (s = 32)\n`);
  console.log(`lambda_i per method (rescale factor of frequency i; 1 = untouched)`);
  console.log(['method'.padEnd(8), ...DIMS.map((i) => `i=${i}`.padStart(7)), 'attn'.padStart(8)].join(' '));
  for (const method of METHODS) {
    const spec: RopeSpec = { method, ...BASE, ...(method === 'llama3' ? { factor: 32 } : {}) };
    const lambda = methodToLongropeFactors(spec);
    const attn = computeRopeTables(spec).attentionFactor;
    console.log([method.padEnd(8), ...DIMS.map((i) => lambda[i].toFixed(2).padStart(7)), attn.toFixed(4).padStart(8)].join(' '));
  }
  // The fused kernel on a LLaMA-2-sized head, against the libtorch rotate_half reference.
  const tables = computeRopeTables({ method: 'yarn', ...BASE });
  const n = 1 * 512 * 8 * 128;
  const q = { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)), shape: [1, 512, 8, 128] };
  const fused = await applyRotary(q, q, tables, { positionOffset: 100000 });
  const naive = await applyRotary(q, q, tables, { positionOffset: 100000, impl: 'naive' });
  let err = 0;
  for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(fused.q.data[i] - naive.q.data[i]));
  console.log(`\nfused RoPE vs libtorch rotate_half at positions 100000..100511: max abs error ${err.toExponential(2)}`);

  // The bundled tiny model beyond its 256-token window, on held-out text (one window per document).
  const dir = path.join(__dirname, '..', 'models', 'tiny-base');
  const model = await Model.load(dir);
  const tokenizer = await loadTokenizer(dir);
  const docs = (await evalDocuments()).map((d) => Int32Array.from(tokenizer.encode(d.text, { addBos: false })));
  const lengths = [256, 512, 1024];
  console.log(`\ntiny-base (context 256): per-byte perplexity on 8 held-out documents, one window each`);
  console.log(['method'.padEnd(10), ...lengths.map((l) => String(l).padStart(10))].join(''));
  const own = model.config.rope;
  for (const method of ['none', 'linear', 'yarn'] as const) {
    const rope = (length: number) => (method === 'none' ? own : { ...own, method, length: Math.max(length, own.originalLength) });
    const r = await evaluatePerplexity(model, docs, { lengths, truncate: true, samples: 8, seed: 0, rope });
    console.log([method.padEnd(10), ...r.map((x) => x.ppl.toFixed(2).padStart(10))].join(''));
  }
  model.dispose();
  console.log('\nNext: `npm run bench:rope` for the kernel figures; `npx longrope --help` for the CLI.');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
