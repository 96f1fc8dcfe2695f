/**
 * One rank of the distributed tests, started by test/dist/*.test.ts through `launch` (or by hand):
 * argv[2] is a JSON job {mode, outDir, ...}. Writes outDir/rank-<r>.json with what it computed,
 * or with {error} when the call failed (exit code 3).
 *   collectives: allReduce / allGather / broadcast of small arrays
 *   ring: ring attention over this rank's zigzag chunks of deterministic q, k, v (+ backward)
 *   die: after a barrier rank `victim` kills itself with SIGKILL; the others call ring attention
 */
import fs from 'fs';
import path from 'path';

import { ProcessGroup } from '../../../src/dist/process-group';
import { takeRows, zigzagIndices } from '../../../src/dist/zigzag';
import { native } from '../../../src/native';
import { ringInputs, RingShape } from '../ring-inputs';

interface Job extends Partial<RingShape> {
  mode: 'collectives' | 'ring' | 'die';
  outDir: string;
  timeoutMs?: number;
  victim?: number;
}

async function ring(pg: ProcessGroup, shape: RingShape): Promise<Record<string, number[]>> {
  const { q, k, v, gradOut } = ringInputs(shape);
  const { batch: b, seq: s, heads: h, kvHeads: kv, headDim: d } = shape;
  const idx = zigzagIndices(s, pg.worldSize, pg.rank);
  const local = idx.length;
  const r = await pg.run((handle) => native().ringAttention(handle, {
    q: { data: takeRows(q, b, s, h * d, idx), shape: [b, local, h, d] },
    k: { data: takeRows(k, b, s, kv * d, idx), shape: [b, local, kv, d] },
    v: { data: takeRows(v, b, s, kv * d, idx), shape: [b, local, kv, d] },
    gradOut: takeRows(gradOut, b, s, h * d, idx),
    tile: shape.tile,
  }));
  return { indices: Array.from(idx), out: Array.from(r.out), dq: Array.from(r.dq!), dk: Array.from(r.dk!), dv: Array.from(r.dv!) };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as Job;
  const rank = Number(process.env.RANK);
  const write = (value: unknown): void =>
    fs.writeFileSync(path.join(job.outDir, `rank-${rank}.json`), JSON.stringify(value));
  const pg = await ProcessGroup.init({ timeoutMs: job.timeoutMs ?? 60_000 });
  try {
    if (job.mode === 'collectives') {
      const sum = await pg.allReduce(new Float32Array([pg.rank + 1, 10 * pg.rank]));
      const max = await pg.allReduce(new Float32Array([pg.rank]), 'max');
      const gathered = await pg.allGather(new Float32Array([pg.rank, pg.rank === 0 ? 0 : -pg.rank, 0.5]));
      const bcast = await pg.broadcast(new Float32Array([pg.rank === 1 ? 42 : -1]), 1);
      let mismatch = '';
      try {
        await pg.allGather(new Float32Array(pg.rank + 1));
      } catch (e) {
        mismatch = (e as Error).message;
      }
      await pg.barrier();
      write({ rank: pg.rank, worldSize: pg.worldSize, sum: Array.from(sum), max: Array.from(max),
        gathered: gathered.map((g) => Array.from(g)), bcast: Array.from(bcast), mismatch });
    } else if (job.mode === 'ring') {
      write(await ring(pg, job as RingShape));
    } else {
      await pg.barrier();
      if (pg.rank === job.victim) process.kill(process.pid, 'SIGKILL');
      const start = Date.now();
      try {
        await ring(pg, job as RingShape);
        write({ error: null, ms: Date.now() - start });
      } catch (e) {
        write({ error: (e as Error).message, ms: Date.now() - start });
        process.exitCode = 3;
      }
    }
  } finally {
    pg.dispose();
  }
}

main().catch((e) => {
  console.error(`rank ${process.env.RANK}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
