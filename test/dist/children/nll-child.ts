/**
 * One rank of test/dist/sequence-parallel.test.ts: loads argv[2]'s model directory, joins the
 * group from the environment and writes outDir/rank-<r>.json with the sequence-parallel NLL of
 * the job's tokens ({nll} or {error}, exit code 3). With `victim`, that rank kills itself with
 * SIGKILL after a barrier and the others report how their NLL call failed.
 */
import fs from 'fs';
import path from 'path';

import { ProcessGroup } from '../../../src/dist/process-group';
import { Model } from '../../../src/model/model';
import { nllJobTokens, NllJob } from '../nll-job';

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as NllJob & { outDir: string; victim?: number };
  const rank = Number(process.env.RANK);
  const write = (value: unknown): void => fs.writeFileSync(path.join(job.outDir, `rank-${rank}.json`), JSON.stringify(value));
  const model = await Model.load(job.modelDir);
  const pg = await ProcessGroup.init({ timeoutMs: 60_000 });
  try {
    if (job.victim !== undefined) {
      await pg.barrier();
      if (pg.rank === job.victim) process.kill(process.pid, 'SIGKILL');
    }
    const start = Date.now();
    try {
      const nll = await model.nll(nllJobTokens(job), { ...job.options, sequenceParallel: pg });
      write({ nll: Array.from(nll), ms: Date.now() - start });
    } catch (e) {
      write({ error: (e as Error).message, ms: Date.now() - start });
      process.exitCode = 3;
    }
  } finally {
    pg.dispose();
    model.dispose();
  }
}

main().catch((e) => {
  console.error(`rank ${process.env.RANK}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
