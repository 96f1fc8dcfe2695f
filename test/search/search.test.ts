/**
 * The evolutionary search: the space and its operators against the paper's rules, the loop on a
 * fitness with a known optimum (deterministic, no duplicate evaluated, resumable mid-generation
 * with nothing lost or repeated), and the CLI on tiny-llama: kill -9 and --resume end where an
 * uninterrupted search does; refusals name the flag.
 */
import { execFile, spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';

import test from 'ava';

import { Prng } from '../../src/common/prng';
import { methodToLongropeFactors } from '../../src/rope';
import type { RopeSpec } from '../../src/rope/types';
import {
  crossover, evolve, initialState, mutate, onGrid, paperSettings, SearchSpace, seedIndividuals, theoreticalCriticalDim,
  type SearchState,
} from '../../src/search';
import { fakeFitness } from './fake-fitness';
import { setup, searchArgs } from './search-cli';

const BASE: RopeSpec = { method: 'none', headDim: 32, base: 10000, originalLength: 256, length: 256 };
const space = (o: Partial<ConstructorParameters<typeof SearchSpace>[0]> = {}) => new SearchSpace({ base: BASE, targetLength: 2048, ...o });

function monotoneInBounds(t: { true: (v: boolean, m?: string) => void }, f: number[], max: number): void {
  f.forEach((v, i) => {
    t.true(v >= 1 && v <= max + 1e-9, `factor ${i} = ${v} in [1, ${max}]`);
    if (i > 0) t.true(v >= f[i - 1] - 1e-12, `factor ${i} non-decreasing`);
  });
}

test('critical dimension: LongRoPE2\'s code default, checked by hand for LLaMA-2, LLaMA-3 and the tiny model', (t) => {
  // LLaMA-3-8B: d=128, base 500000, L=8192: ceil(64 * ln(8192/2pi)/ln(5e5)) - 1 = ceil(34.99) - 1 = 34 (spec: "code default 34").
  t.is(theoreticalCriticalDim({ ...BASE, headDim: 128, base: 500000, originalLength: 8192, length: 8192 }), 34);
  // LLaMA-2-7B: d=128, base 1e4, L=4096: ceil(64 * 0.70362) - 1 = 45.
  t.is(theoreticalCriticalDim({ ...BASE, headDim: 128, originalLength: 4096, length: 4096 }), 45);
  // The tiny model: d=64, base 1e4, L=256: ceil(32 * 0.40250) - 1 = 12.
  t.is(theoreticalCriticalDim({ ...BASE, headDim: 64 }), 12);
});

test('seeds are PI (all s), NTK and YaRN as factors, on the grid and within 1 + s', (t) => {
  const sp = space();
  const [pi, ntk, yarn] = seedIndividuals(sp);
  t.deepEqual(pi.factors, new Array(16).fill(8));
  const ntkExact = Array.from(methodToLongropeFactors({ ...BASE, method: 'ntk', length: 2048, factor: 8 }));
  ntk.factors.forEach((v, i) => t.true(Math.abs(v - Math.min(9, ntkExact[i])) <= 0.005 + 1e-9, `ntk ${i}`));
  const yarnExact = Array.from(methodToLongropeFactors({ ...BASE, method: 'yarn', length: 2048, factor: 8 }));
  t.is(yarn.factors[0], 1);
  t.is(yarn.factors[15], 8);
  yarn.factors.forEach((v, i) => t.true(Math.abs(v - yarnExact[i]) <= 0.005 + 1e-9, `yarn ${i}`));
  t.is(sp.maxFactor, 9);
  for (const s of [pi, ntk, yarn]) t.is(s.nHat, 0);
});

test('mutation and crossover: children are new, on the grid, monotone, >= 1, <= maxFactor; nHat from the paper\'s set', (t) => {
  const sp = space();
  const rng = new Prng(7);
  const seeds = seedIndividuals(sp);
  const seen = new Set(seeds.map((s) => sp.key(s)));
  for (let i = 0; i < 300; i++) {
    const a = seeds[i % 3];
    const child = i % 2 ? mutate(sp, a, rng, 0.3, seen) : crossover(sp, a, seeds[(i + 1) % 3], rng, 0.3, seen);
    if (!child) continue;
    t.false(seen.has(sp.key(child)), 'new');
    seen.add(sp.key(child));
    monotoneInBounds(t, child.factors, 9);
    child.factors.forEach((v) => t.is(v, onGrid(v)));
    t.true([0, 1, 2, 4, 8, 12, 16, 20, 24, 28, 32, 64, 128, 256].includes(child.nHat));
  }
  t.true(seen.size > 250, `${seen.size} distinct individuals`);
});

test('critical dimension: only dims >= cd are searched, the rest follow lambda_cd^(i/cd)', (t) => {
  const sp = space({ criticalDim: 5 });
  const rng = new Prng(1);
  const seen = new Set<string>();
  const child = mutate(sp, seedIndividuals(sp)[2], rng, 0.9, seen)!;
  for (let i = 0; i < 5; i++) t.true(Math.abs(child.factors[i] - Math.pow(child.factors[5], i / 5)) < 1e-12);
  monotoneInBounds(t, child.factors, 9);
  t.throws(() => space({ criticalDim: 16 }), { message: /Expected an integer in \[1, 15\] .* for criticalDim but received 16/ });
});

test('the attention gene is searched within its range and reaches the spec', (t) => {
  const sp = space({ searchAttention: true });
  const seeds = seedIndividuals(sp);
  t.is(seeds[0].attention, 1);  // PI
  t.true(Math.abs(seeds[2].attention! - onGrid(0.1 * Math.log(8) + 1)) < 0.006);  // YaRN's mscale
  t.is(sp.spec(seeds[2]).attentionFactor, seeds[2].attention!);
  const off = space();
  t.is(off.spec(seedIndividuals(off)[2]).attentionFactor, undefined);  // gene off: LongRoPE's default
});

const SMALL = { ...paperSettings(2048), population: 12, mutations: 4, crossovers: 4, iterations: 6, parents: 6, seed: 3 };

test('the loop: deterministic for a seed, no duplicate evaluated, the best never gets worse', async (t) => {
  const sp = space();
  const calls1: string[] = [];
  const r1 = await evolve({ space: sp, fitness: fakeFitness(calls1), settings: SMALL });
  const calls2: string[] = [];
  const r2 = await evolve({ space: sp, fitness: fakeFitness(calls2), settings: SMALL });
  t.deepEqual(calls1, calls2);
  t.deepEqual(r1.state.history.map((h) => h.best), r2.state.history.map((h) => h.best));
  t.is(new Set(calls1).size, calls1.length, 'no spec evaluated twice');
  t.is(r1.state.evaluations, calls1.length);
  t.true(calls1.length <= 12 + 6 * 8);
  const bests = r1.state.history.map((h) => h.best);
  for (let i = 1; i < bests.length; i++) t.true(bests[i] <= bests[i - 1]);
  t.true(bests[bests.length - 1] < bests[0], `improved: ${bests[0]} -> ${bests[bests.length - 1]}`);
  t.is(r1.best.fitness, bests[bests.length - 1]);
  const other = await evolve({ space: sp, fitness: fakeFitness([]), settings: { ...SMALL, seed: 4 } });
  t.notDeepEqual(other.state.history.map((h) => h.best), r1.state.history.map((h) => h.best));
});

test('resume mid-generation: nothing lost, nothing repeated, the same end', async (t) => {
  const sp = space();
  const straight: string[] = [];
  const full = await evolve({ space: sp, fitness: fakeFitness(straight), settings: SMALL });
  for (const stopAt of [5, 12, 17, 30]) {
    const calls: string[] = [];
    let saved: SearchState | undefined;
    const controller = new AbortController();
    await t.throwsAsync(evolve({
      space: sp, fitness: fakeFitness(calls), settings: SMALL, signal: controller.signal,
      persist: (s) => { saved = JSON.parse(JSON.stringify(s)); },
      onEvaluation: (e) => { if (e.evaluations === stopAt) controller.abort(); },
    }), { name: 'AbortError' });
    t.is(calls.length, stopAt);
    const resumed = await evolve({ space: sp, fitness: fakeFitness(calls), settings: SMALL, state: saved });
    t.deepEqual(calls, straight, `stopped after ${stopAt}: the same evaluations, once each`);
    t.deepEqual(resumed.state.history.map((h) => h.best), full.state.history.map((h) => h.best));
    t.deepEqual(resumed.bestSpec, full.bestSpec);
  }
});

test('initial population: seeds first, then distinct mutations up to P', (t) => {
  const sp = space();
  const s = initialState(sp, { ...SMALL, population: 20 });
  t.is(s.pending.length, 20);
  t.deepEqual(s.pending.slice(0, 3), seedIndividuals(sp));
  t.is(new Set(s.pending.map((i) => sp.key(i))).size, 20);
});

// ---- The CLI on tiny-llama (original window 64; target 256) ----

const run = promisify(execFile);

test('CLI: kill -9 mid-search, --resume: the same search as an uninterrupted one', async (t) => {
  t.timeout(240_000);
  const s = setup();
  const straightOut = path.join(s.dir, 'straight');
  const straight = JSON.parse((await run(process.execPath, searchArgs(s, straightOut))).stdout);
  t.true(straight.evaluations > 6);
  for (const f of ['best.json', 'factors.csv', 'generations.jsonl', 'result.json', 'search.json']) t.true(fs.existsSync(path.join(straightOut, f)), f);
  t.is(fs.readFileSync(path.join(straightOut, 'factors.csv'), 'utf8').trim().split('\n').length, 8);
  t.is(fs.readFileSync(path.join(straightOut, 'generations.jsonl'), 'utf8').trim().split('\n').length, 4);

  const killedOut = path.join(s.dir, 'killed');
  const child = spawn(process.execPath, searchArgs(s, killedOut), { stdio: 'ignore', env: { ...process.env, LONGROPE_TEST_HALT_AFTER_EVALUATION: '8' } });
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const f = path.join(killedOut, 'search.json');
      if (fs.existsSync(f) && JSON.parse(fs.readFileSync(f, 'utf8')).state.evaluations === 8) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 20);
    child.on('exit', () => { clearInterval(poll); resolve(); });
  });
  const other = await run(process.execPath, searchArgs(s, killedOut, ['--resume', '--samples', '3'])).catch((e) => e);
  t.regex(other.stderr, /search\.json: the search to resume has a different samples \(saved 2, requested 3\); nothing was overwritten/);
  const again = await run(process.execPath, searchArgs(s, killedOut)).catch((e) => e);
  t.regex(again.stderr, /already holds a search; pass --resume/);
  const resumed = JSON.parse((await run(process.execPath, searchArgs(s, killedOut, ['--resume']))).stdout);
  t.is(resumed.evaluations, straight.evaluations, 'no evaluation lost or repeated');
  t.deepEqual(resumed.bestSpec, straight.bestSpec);
  t.is(resumed.bestFitness, straight.bestFitness);
  t.deepEqual(fs.readFileSync(path.join(killedOut, 'generations.jsonl'), 'utf8').split('\n').map((l) => l && JSON.parse(l).best),
    fs.readFileSync(path.join(straightOut, 'generations.jsonl'), 'utf8').split('\n').map((l) => l && JSON.parse(l).best));
  // The best spec is a longrope spec at the target that the library evaluates as the search did.
  const best = JSON.parse(fs.readFileSync(path.join(killedOut, 'best.json'), 'utf8'));
  t.like(best, { method: 'longrope', originalLength: 64, length: 256, headDim: 16 });
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('CLI: bad input names the flag, before the weights are loaded', async (t) => {
  t.timeout(120_000);
  const s = setup();
  const out = path.join(s.dir, 'o');
  const cases: [string[], RegExp][] = [
    [['--target-length', '64'], /Expected a --target-length above the model's original window 64 but received 64/],
    [['--fitness', 'bleu'], /Expected one of "ppl", "needle" for --fitness but received "bleu"/],
    [['--critical-dim', '8'], /Expected a --critical-dim below d\/2 = 8 but received 8/],
    [['--target-length', '4096'], /Expected 2 documents of at least 4095 tokens for the target length 4096 but received 0 \(the longest has \d+ tokens\)/],
    [['--probability', '2'], /Expected a number in \(0, 1\] for --probability but received 2/],
    [['--screen-samples', '2'], /Expected a --screen-samples below --samples \(2\) but received 2/],
    [['--screen-samples', '1', '--promote', '1.5'], /Expected a number in \(0, 1\] for --promote but received 1.5/],
  ];
  for (const [extra, message] of cases) {
    const r = await run(process.execPath, searchArgs(s, out, extra)).catch((e) => e);
    t.is(r.code, 1, extra.join(' '));
    t.regex(r.stderr, message);
  }
  const spec = path.join(s.dir, 'bad.json');
  fs.writeFileSync(spec, JSON.stringify({ method: 'longrope', longFactors: [1, 2, 1.5, 3, 4, 5, 6, 7], originalLength: 64, length: 256 }));
  const r = await run(process.execPath, searchArgs(s, out, ['--target-length', '64', '--short', spec])).catch((e) => e);
  t.regex(r.stderr, /Expected a number >= 2 \(longFactors\[1\]; factors must be non-decreasing\) for longFactors\[2\] but received 1\.5/);
  fs.rmSync(s.dir, { recursive: true, force: true });
});

test('multi-fidelity: every candidate screened once, only the promoted share gets the full fitness, the cost adds up', async (t) => {
  const sp = space();
  const screening = { samples: 1, promote: 0.25 };
  const calls: string[] = [];
  const r = await evolve({ space: sp, fitness: fakeFitness(calls, 16, 4), settings: SMALL, screening });
  const screened = calls.filter((c) => c.startsWith('1:'));
  const full = calls.filter((c) => !c.startsWith('1:'));
  t.is(new Set(screened).size, screened.length, 'no spec screened twice');
  t.is(new Set(full).size, full.length, 'no spec fully evaluated twice');
  for (const c of full) t.true(screened.includes(`1:${c}`), 'only screened specs are promoted');
  // Generation sizes: 12 initial, then the children drawn (at most 8); a quarter of each, rounded up.
  const sizes = r.state.history.map((h, i) => (i === 0 ? h.screenEvaluations : h.screenEvaluations - r.state.history[i - 1].screenEvaluations));
  t.is(full.length, sizes.reduce((s, n) => s + Math.max(1, Math.ceil(n / 4)), 0));
  t.is(r.state.evaluations, full.length);
  t.is(r.state.screenEvaluations, screened.length);
  t.true(Math.abs(r.state.cost! - (full.length + screened.length / 4)) < 1e-9, `cost ${r.state.cost}`);
  // Parents (and the best) come from the full fitness only.
  const exact = fakeFitness([], 16, 4);
  t.is(r.best.fitness, Math.fround(await exact.evaluate(r.bestSpec)));
  const again: string[] = [];
  await evolve({ space: sp, fitness: fakeFitness(again, 16, 4), settings: SMALL, screening });
  t.deepEqual(again, calls, 'deterministic for a seed');
  const bests = r.state.history.map((h) => h.best);
  t.true(bests[bests.length - 1] < bests[0], `improved: ${bests[0]} -> ${bests[bests.length - 1]}`);
});

test('multi-fidelity resume: stopped during screening or during the full evaluations, nothing lost or repeated', async (t) => {
  const sp = space();
  const screening = { samples: 1, promote: 0.25 };
  const straight: string[] = [];
  const full = await evolve({ space: sp, fitness: fakeFitness(straight, 16, 4), settings: SMALL, screening });
  for (const stopAt of [3, 12, 14, 25, 40]) {
    const calls: string[] = [];
    let saved: SearchState | undefined;
    const controller = new AbortController();
    await t.throwsAsync(evolve({
      space: sp, fitness: fakeFitness(calls, 16, 4), settings: SMALL, screening, signal: controller.signal,
      persist: (s) => { saved = JSON.parse(JSON.stringify(s)); },
      onEvaluation: () => { if (calls.length === stopAt) controller.abort(); },
    }), { name: 'AbortError' });
    const resumed = await evolve({ space: sp, fitness: fakeFitness(calls, 16, 4), settings: SMALL, screening, state: saved });
    t.deepEqual(calls, straight, `stopped after ${stopAt} calls: the same evaluations, once each`);
    t.deepEqual(resumed.bestSpec, full.bestSpec);
    t.is(resumed.state.cost, full.state.cost);
  }
});

test('multi-fidelity: a fitness that cannot be subset, or settings out of range, are refused', async (t) => {
  const sp = space();
  await t.throwsAsync(evolve({ space: sp, fitness: fakeFitness([]), settings: SMALL, screening: { samples: 1, promote: 0.25 } }), { message: /cannot be screened/ });
  await t.throwsAsync(evolve({ space: sp, fitness: fakeFitness([], 16, 4), settings: SMALL, screening: { samples: 4, promote: 0.25 } }), { message: /fewer screening samples than the fitness's 4 but received 4/ });
  await t.throwsAsync(evolve({ space: sp, fitness: fakeFitness([], 16, 4), settings: SMALL, screening: { samples: 1, promote: 0 } }), { message: /promoted share in \(0, 1\] .* received 0/ });
});

test('CLI: --screen-samples runs the multi-fidelity search and reports its cost', async (t) => {
  t.timeout(120_000);
  const s = setup();
  const out = path.join(s.dir, 'mf');
  const { stdout } = await run(process.execPath, searchArgs(s, out, ['--screen-samples', '1', '--promote', '0.5']));
  const r = JSON.parse(stdout);
  t.true(r.screenEvaluations >= 6, `every candidate screened (${r.screenEvaluations})`);
  t.true(r.evaluations >= 1 && r.evaluations < r.screenEvaluations, `${r.evaluations} full of ${r.screenEvaluations}`);
  t.true(Math.abs(r.cost - (r.evaluations + r.screenEvaluations / 2)) < 1e-9, `cost ${r.cost}`);
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'search.json'), 'utf8'));
  t.deepEqual(saved.signature.screening, { samples: 1, promote: 0.5 });
  // The same folder without the flag is another search: refused, nothing overwritten.
  const again = await run(process.execPath, searchArgs(s, out, ['--resume'])).catch((e) => e);
  t.regex(again.stderr, /different screening/);
  fs.rmSync(s.dir, { recursive: true, force: true });
});
