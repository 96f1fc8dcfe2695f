/**
 * One rank of test/dist/train-parallel.test.ts: joins the group from the environment, runs the
 * training job sequence-parallel and writes outDir/rank-<r>.json (losses, gradient norms, token
 * counts) and rank-<r>-step-<i>.f32 (the parameters after step i).
 */
import fs from 'fs';
import path from 'path';

import { ProcessGroup } from '../../../src/dist/process-group';
import { runTrainJob, TrainJob } from '../train-job';

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as TrainJob & { outDir: string };
  const pg = await ProcessGroup.init({ timeoutMs: 60_000 });
  try {
    const { steps: records } = await runTrainJob(job, pg);
    records.forEach((r, i) => fs.writeFileSync(path.join(job.outDir, `rank-${pg.rank}-step-${i}.f32`), Buffer.from(r.params.buffer)));
    fs.writeFileSync(path.join(job.outDir, `rank-${pg.rank}.json`), JSON.stringify(records.map((r) => ({ loss: r.loss, gradNorm: r.gradNorm, tokens: r.tokens }))));
  } finally {
    pg.dispose();
  }
}

main().catch((e) => {
  console.error(`rank ${process.env.RANK}: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
