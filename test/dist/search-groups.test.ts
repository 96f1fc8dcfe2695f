/**
 * Process subgroups and the data-parallel search with sequence-parallel groups inside (CPU, Gloo):
 * `ProcessGroup.split` forms groups of consecutive ranks that run their own collectives; and
 * `longrope launch --nproc 4 -- search --sequence-parallel 2` (2 groups of 2, each evaluating one
 * candidate at a time with its fitness sequence-parallel over the pair) finds the one-process
 * search's best spec through the same generations and evaluation count.
 */
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';

import test from 'ava';

import { launch } from '../../src/dist/launch';
import { native } from '../../src/native';
import { groupedSearchGroup } from '../../src/search';
import { setup } from '../search/search-cli';

const BIN = path.join(__dirname, '..', '..', 'bin', 'longrope.js');
const SPLIT_CHILD = path.join(__dirname, 'children', 'split-child.ts');
const testGloo = native().distInfo().gloo ? test.serial : test.serial.skip;
const run = promisify(execFile);

testGloo('split(2) over 4 processes: pairs of consecutive ranks with their own collectives', async (t) => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-split-'));
  const result = await launch({ nproc: 4, command: process.execPath, args: ['-r', 'ts-node/register/transpile-only', SPLIT_CHILD, JSON.stringify({ outDir })] });
  t.is(result.exitCode, 0, JSON.stringify(result.ranks));
  for (let r = 0; r < 4; r++) {
    const got = JSON.parse(fs.readFileSync(path.join(outDir, `rank-${r}.json`), 'utf8'));
    const first = r - (r % 2);
    // Ranks 0,1 and 2,3 pair up: sums of (rank + 1) over the pair, gathers of the pair's arrays.
    t.deepEqual(got.pair, {
      rank: r % 2, worldSize: 2, sum: first + 1 + first + 2,
      gather: [[10 * first, 10 * first + 1], [10 * (first + 1), 10 * (first + 1) + 1]],
    }, `rank ${r}`);
    t.deepEqual(got.single, { rank: 0, worldSize: 1, sum: r + 1 });
    t.is(got.worldSum, 1 + 2 + 3 + 4);
    t.regex(got.badSplit, /Expected a divisor of the group's 4 ranks for split size .*but received 3/);
  }
  fs.rmSync(outDir, { recursive: true, force: true });
});

test('groupedSearchGroup: groups are the search\'s ranks, each group\'s first rank its value, world rank 0 the writer', async (t) => {
  // A fake world of 6 ranks whose gather returns rank r's value as 10 r.
  const world = (rank: number) => ({ rank, worldSize: 6, allGather: async () => Array.from({ length: 6 }, (_, r) => Float32Array.of(10 * r)) });
  const views = [0, 1, 2, 3, 4, 5].map((r) => groupedSearchGroup(world(r), 3));
  t.deepEqual(views.map((v) => [v.rank, v.worldSize, v.writer]), [[0, 2, true], [0, 2, false], [0, 2, false], [1, 2, false], [1, 2, false], [1, 2, false]]);
  t.deepEqual((await views[4].allGather(Float32Array.of(0))).map((a) => a[0]), [0, 30]);
  t.throws(() => groupedSearchGroup(world(0), 4), { message: /Expected a divisor of the job's 6 ranks for sequence-parallel group size but received 4/ });
});

// ---- The search on tiny-llama (original window 64; target 256) ----

const searchArgs = (s: { model: string; data: string }, out: string, extra: string[] = []) => ['search', '--model', s.model,
  '--data', s.data, '--target-length', '256', '--out', out, '--population', '6', '--mutations', '2', '--crossovers', '2',
  '--iterations', '2', '--parents', '3', '--samples', '2', '--seed', '1', '--json', ...extra];

const generations = (out: string) => fs.readFileSync(path.join(out, 'generations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { best: number; mean: number; evaluations: number });

testGloo('search under launch --nproc 4 --sequence-parallel 2 equals the one-process search', async (t) => {
  t.timeout(600_000);
  const s = setup('longrope-search-groups-');
  const oneOut = path.join(s.dir, 'one');
  const groupsOut = path.join(s.dir, 'groups');
  const one = JSON.parse((await run(process.execPath, [BIN, ...searchArgs(s, oneOut)])).stdout);
  const grouped = await run(process.execPath, [BIN, 'launch', '--nproc', '4', '--', ...searchArgs(s, groupsOut, ['--sequence-parallel', '2'])], { maxBuffer: 1 << 24 });
  const got = JSON.parse(grouped.stdout);
  t.is(got.ranks, 4);
  t.is(got.sequenceParallel, 2);
  t.is(one.ranks, 1);
  t.true(one.evaluations > 6);
  t.is(got.evaluations, one.evaluations);
  t.is(got.generations, one.generations);
  t.deepEqual(got.bestSpec, one.bestSpec);
  t.deepEqual(JSON.parse(fs.readFileSync(path.join(groupsOut, 'best.json'), 'utf8')), one.bestSpec);
  // The sequence-parallel NLL equals the one-process NLL within float rounding (~5e-7), so the
  // fitness values may differ in their last bits: the same generations within 1e-5, relative.
  const want = generations(oneOut);
  const have = generations(groupsOut);
  t.is(have.length, want.length);
  let worst = 0;
  for (const [i, w] of want.entries()) {
    t.is(have[i].evaluations, w.evaluations);
    for (const k of ['best', 'mean'] as const) worst = Math.max(worst, Math.abs(have[i][k] - w[k]) / w[k]);
  }
  t.log(`best fitness ${one.bestFitness} (one process) vs ${got.bestFitness} (2 groups of 2); largest relative difference ${worst.toExponential(2)}`);
  t.true(worst < 1e-5, String(worst));
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test.serial('a --sequence-parallel that does not divide the job\'s processes is refused before any work', async (t) => {
  const s = setup('longrope-search-groups-');
  const bad = await t.throwsAsync(run(process.execPath, [BIN, ...searchArgs(s, path.join(s.dir, 'x'), ['--sequence-parallel', '3'])], {
    env: { ...process.env, WORLD_SIZE: '4', RANK: '0', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29999' },
  }));
  t.regex((bad as Error & { stderr: string }).stderr, /Expected a --sequence-parallel that divides the job's 4 processes \(WORLD_SIZE\) but received 3/);
  const alone = await t.throwsAsync(run(process.execPath, [BIN, ...searchArgs(s, path.join(s.dir, 'y'), ['--sequence-parallel', '2'])]));
  t.regex((alone as Error & { stderr: string }).stderr, /divides the job's 1 process \(WORLD_SIZE\) but received 2: run it under longrope launch/);
  t.false(fs.existsSync(path.join(s.dir, 'x')));
  fs.rmSync(s.dir, { recursive: true, force: true });
});
