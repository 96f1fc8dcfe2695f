/**
 * One rank of test/dist/search-groups.test.ts's split test: joins the job's group, splits it in
 * groups of 2, then in groups of 1, and writes outDir/rank-<r>.json with what each subgroup saw
 * (its rank and size, a sum and a gather over it) and the error of a split that does not divide.
 */
import fs from 'fs';
import path from 'path';

import { ProcessGroup } from '../../../src/dist/process-group';

async function main(): Promise<void> {
  const { outDir } = JSON.parse(process.argv[2]) as { outDir: string };
  const world = await ProcessGroup.init({ timeoutMs: 60_000 });
  try {
    const pairs = await world.split(2);
    const singles = await world.split(1);
    // The subgroups run independently of the world: a world collective between theirs.
    const pairSum = await pairs.allReduce(Float32Array.of(world.rank + 1));
    const worldSum = await world.allReduce(Float32Array.of(world.rank + 1));
    const pairGather = await pairs.allGather(Float32Array.of(10 * world.rank, 10 * world.rank + 1));
    const singleSum = await singles.allReduce(Float32Array.of(world.rank + 1));
    let badSplit = '';
    await world.split(3).catch((e: Error) => { badSplit = e.message; });
    fs.writeFileSync(path.join(outDir, `rank-${world.rank}.json`), JSON.stringify({
      pair: { rank: pairs.rank, worldSize: pairs.worldSize, sum: pairSum[0], gather: pairGather.map((a) => Array.from(a)) },
      single: { rank: singles.rank, worldSize: singles.worldSize, sum: singleSum[0] },
      worldSum: worldSum[0], badSplit,
    }));
    pairs.dispose();
    singles.dispose();
  } finally {
    world.dispose();
  }
}

main().catch((e) => {
  console.error(`rank ${process.env.RANK}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
