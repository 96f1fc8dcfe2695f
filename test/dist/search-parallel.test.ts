/**
 * The data-parallel search: over 2 and 3 Gloo processes each rank evaluates its share of every
 * generation, and every rank ends with exactly the one-process search (same history, best spec,
 * evaluation count), each candidate evaluated by exactly one rank.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import test from 'ava';

import { launch } from '../../src/dist/launch';
import { native } from '../../src/native';
import { evolve, paperSettings, SearchSpace } from '../../src/search';
import { fakeFitness } from '../search/fake-fitness';

const CHILD = path.join(__dirname, 'children', 'search-child.ts');
const testGloo = native().distInfo().gloo ? test.serial : test.serial.skip;

for (const nproc of [2, 3]) {
  testGloo(`a search spread over ${nproc} processes equals the one-process search`, async (t) => {
    const calls: string[] = [];
    const space = new SearchSpace({ base: { method: 'none', headDim: 32, base: 10000, originalLength: 256, length: 256 }, targetLength: 2048 });
    const settings = { ...paperSettings(2048), population: 12, mutations: 4, crossovers: 4, iterations: 5, parents: 6, seed: 3 };
    const one = await evolve({ space, fitness: fakeFitness(calls), settings });
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-dp-'));
    const result = await launch({ nproc, command: process.execPath, args: ['-r', 'ts-node/register/transpile-only', CHILD, JSON.stringify({ outDir })] });
    t.is(result.exitCode, 0, JSON.stringify(result.ranks));
    const ranks = Array.from({ length: nproc }, (_, r) => JSON.parse(fs.readFileSync(path.join(outDir, `rank-${r}.json`), 'utf8')));
    for (const r of ranks) {
      t.deepEqual(r.history, one.state.history.map((h) => h.best));
      t.deepEqual(r.bestSpec, one.bestSpec);
      t.is(r.evaluations, one.state.evaluations);
    }
    // Every candidate was evaluated once, by one rank; together they made the one-process calls.
    const all = ranks.flatMap((r) => r.calls as string[]);
    t.is(all.length, calls.length);
    t.deepEqual([...all].sort(), [...calls].sort());
    t.true(ranks.every((r) => r.calls.length > 0), 'every rank did its share');
    fs.rmSync(outDir, { recursive: true, force: true });
  });
}
