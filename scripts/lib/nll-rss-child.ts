/**
 * Child process of `npm run bench:model`: loads a model, runs one NLL over N tokens and prints
 * {"length", "ms", "rssAfterLoadMB", "peakRssMB"} (peak = VmHWM, the process high-water mark).
 * A fresh process per length, so each peak belongs to one length.
 */
import fs from 'fs';

import { Model } from '../../src/model/model';

function vm(field: 'VmHWM' | 'VmRSS'): number {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const [dir, lengthArg] = process.argv.slice(2);
  const length = Number(lengthArg);
  const model = await Model.load(dir);
  const afterLoad = vm('VmRSS');
  const tokens = Int32Array.from({ length }, (_, i) => (i * 7919 + 13) % model.config.vocabSize);
  const spec = { ...model.config.rope, method: 'linear' as const, length: Math.max(length, model.config.rope.originalLength) };
  const start = performance.now();
  await model.nll(tokens, { rope: spec });
  const ms = performance.now() - start;
  console.log(JSON.stringify({ length, ms, rssAfterLoadMB: afterLoad, peakRssMB: vm('VmHWM') }));
  model.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
