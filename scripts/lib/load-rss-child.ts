/**
 * Child process for the load-memory check: loads a model on CPU (fp32) and prints RSS before,
 * after, and the high-water mark, so a test can tell whether the checkpoint was ever held twice.
 */
import fs from 'fs';

import { Model } from '../../src/model/model';
import { native } from '../../src/native';

function vmKb(field: 'VmHWM' | 'VmRSS'): number {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function main(): Promise<void> {
  native().runtimeInfo();  // libtorch's own pages are not the model's: load it first
  const before = vmKb('VmRSS');
  const model = await Model.load(process.argv[2]);
  const info = model.info();
  console.log(JSON.stringify({ before, after: vmKb('VmRSS'), peak: vmKb('VmHWM'), parameterBytes: info.parameterBytes }));
  model.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
