import test from 'ava';
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';


const run = promisify(execFile);
const BIN = path.join(__dirname, '..', '..', 'bin', 'longrope.js');

async function longrope(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(process.execPath, [BIN, ...args]);
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

interface FixtureCase { name: string; expected: { invFreq64: number[]; attentionFactor: number } }
const FIXTURES = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'rope', 'reference.json'), 'utf8')) as { cases: FixtureCase[] };

test('rope --json prints the tables of the PyTorch reference fixture (YaRN x32, d=128)', async (t) => {
  const r = await longrope('rope', '--method', 'yarn', '--head-dim', '128', '--base', '10000',
    '--original-length', '4096', '--length', '131072', '--json');
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const want = FIXTURES.cases.find((c) => c.name === 'yarn-d128-b10000-4096x32')!.expected;
  t.deepEqual(Object.keys(out), ['invFreq', 'attentionFactor', 'nHat']);
  t.is(out.invFreq.length, 64);
  // fp32 values of the float64 reference (the reference test allows 1 ulp).
  out.invFreq.forEach((v: number, i: number) => t.true(Math.abs(v - want.invFreq64[i]) <= 1.2e-7 * want.invFreq64[i], `inv ${i}: ${v} vs ${want.invFreq64[i]}`));
  t.true(Math.abs(out.attentionFactor - want.attentionFactor) < 1e-6);
  // YaRN mscale = 0.1 ln(32) + 1 (spec table).
  t.true(Math.abs(out.attentionFactor - (0.1 * Math.log(32) + 1)) < 1e-12);
  t.is(out.nHat, 0);
});

test('rope reads longrope factors from a CSV file with nHat', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-cli-'));
  const file = path.join(dir, 'factors.csv');
  fs.writeFileSync(file, '1.0\n1.5\n2.0\n4.0\n');
  const r = await longrope('rope', '--method', 'longrope', '--head-dim', '8', '--original-length', '4096',
    '--length', '16384', '--factors', file, '--n-hat', '4', '--json');
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  // inv_i = 10000^(-i/4) / lambda_i; attention factor sqrt(1 + ln 4 / ln 4096) = sqrt(1 + 1/6).
  const want = [1, 0.1 / 1.5, 0.01 / 2, 0.001 / 4].map(Math.fround);
  out.invFreq.forEach((v: number, i: number) => t.true(Math.abs(v - want[i]) <= 1e-7 * want[i], `inv ${i}`));
  t.true(Math.abs(out.attentionFactor - Math.sqrt(1 + 1 / 6)) < 1e-12);
  t.is(out.nHat, 4);
});

test('rope: bad input exits 1 with one line naming the field', async (t) => {
  const odd = await longrope('rope', '--method', 'linear', '--head-dim', '7', '--original-length', '4096', '--length', '8192', '--json');
  t.is(odd.code, 1);
  t.is(odd.stderr.trim(), 'longrope: Expected an even integer >= 2 for headDim but received 7 of type number');
  const unknown = await longrope('rope', '--method', 'su', '--head-dim', '8', '--original-length', '4096', '--length', '8192');
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /Expected one of "none", .* for method but received "su" of type string/);
  const missing = await longrope('rope', '--method', 'longrope', '--head-dim', '8', '--original-length', '4096',
    '--length', '8192', '--factors', '/nonexistent/factors.csv');
  t.is(missing.stderr.trim(), 'longrope: /nonexistent/factors.csv: cannot read the factor file (ENOENT)');
});
