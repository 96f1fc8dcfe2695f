// Compiles every CUDA source with nvcc (and the CUDA branches of the C++ with g++) on machines
// that cannot run CUDA, so a CUDA syntax error cannot land. Skipped where nvcc is missing.
import test from 'ava';
import { execFileSync, spawnSync } from 'child_process';
import path from 'path';

const script = path.join(__dirname, '..', '..', 'scripts', 'check-cuda.js');
const hasNvcc = ['/usr/local/cuda/bin/nvcc', 'nvcc', process.env.NVCC ?? '']
  .some((c) => c && spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);

(hasNvcc ? test : test.skip)('every .cu file and CUDA branch compiles (sm_80, sm_90a)', (t) => {
  t.timeout(5 * 60 * 1000);
  let raw: string;
  try {
    raw = execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' });
  } catch (e) {
    raw = (e as { stdout: string }).stdout;
  }
  const report = JSON.parse(raw) as { results: { file: string; compiler: string; ok: boolean; output: string }[] };
  t.true(report.results.some((r) => r.file.endsWith('.cu')), 'found CUDA sources');
  for (const r of report.results) t.true(r.ok, `${r.compiler} ${r.file}:\n${r.output}`);
});
