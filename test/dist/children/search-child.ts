/**
 * One rank of test/dist/search-parallel.test.ts: joins the group from the environment, runs the
 * search loop on a fitness with a known optimum with the evaluations spread over the ranks, and
 * writes outDir/rank-<r>.json: the history, the best spec, the evaluation count and the fitness
 * calls this rank made.
 */
import fs from 'fs';
import path from 'path';

import { ProcessGroup } from '../../../src/dist/process-group';
import { evolve, paperSettings, SearchSpace } from '../../../src/search';
import { fakeFitness } from '../../search/fake-fitness';

async function main(): Promise<void> {
  const { outDir } = JSON.parse(process.argv[2]) as { outDir: string };
  const pg = await ProcessGroup.init({ timeoutMs: 60_000 });
  try {
    const calls: string[] = [];
    const space = new SearchSpace({ base: { method: 'none', headDim: 32, base: 10000, originalLength: 256, length: 256 }, targetLength: 2048 });
    const settings = { ...paperSettings(2048), population: 12, mutations: 4, crossovers: 4, iterations: 5, parents: 6, seed: 3 };
    const r = await evolve({ space, fitness: fakeFitness(calls), settings, group: pg });
    fs.writeFileSync(path.join(outDir, `rank-${pg.rank}.json`), JSON.stringify({
      history: r.state.history.map((h) => h.best), bestSpec: r.bestSpec, evaluations: r.state.evaluations, calls,
    }));
  } finally {
    pg.dispose();
  }
}

main().catch((e) => {
  console.error(`rank ${process.env.RANK}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
