// The library as a user gets it: `npm pack`, the tarball installed into an empty project outside
// the repository, then used from a CommonJS script, an ES module and a type-checked TypeScript
// script (test/package/consumer/). Each computes a perplexity with the tiny model; all must equal
// what src/ computes in this process. The install must keep the shipped addon, not rebuild it.
import test from 'ava';
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';

import { Model, evaluation, loadTokenizer } from '../../src';

const ROOT = path.join(__dirname, '..', '..');
const CONSUMER = path.join(__dirname, 'consumer');
const MODEL = path.join(ROOT, 'models', 'tiny-base');
const TEXT = JSON.parse(fs.readFileSync(path.join(CONSUMER, 'text.json'), 'utf8')) as string;
const exec = promisify(execFile);

/** The environment for child commands: without what an outer `npm test` set for its own package. */
function childEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('TS_NODE_')) continue; // a user's ts-node runs with type checking
    if (k.toLowerCase().startsWith('npm_') && !keep.has(k.toLowerCase())) continue;
    env[k] = v;
  }
  return env;
}

async function sh(cwd: string, cmd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(cmd, args, { cwd, env: childEnv(), maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

function versionOf(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** What the consumer scripts compute, computed here from src/. */
async function expected(): Promise<evaluation.PerplexityResult> {
  const model = await Model.load(MODEL);
  try {
    const tokenizer = await loadTokenizer(MODEL);
    const doc = Int32Array.from(tokenizer.encode(TEXT.repeat(2), { addBos: false }));
    const [result] = await evaluation.evaluatePerplexity(model, [doc], { lengths: [128], stride: 64 });
    return result;
  } finally {
    model.dispose();
  }
}

test('the packed library installs with its prebuilt addon and works from CommonJS, ESM and TypeScript', async (t) => {
  t.timeout(300_000);
  const want = await expected();
  t.true(want.ppl > 1 && want.ppl < 8 && want.windows > 1, `a real perplexity over several windows: ${JSON.stringify(want)}`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-pack-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const started = Date.now();
  await sh(ROOT, 'npm', 'pack', '--pack-destination', tmp);
  const tarballs = fs.readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
  t.is(tarballs.length, 1);

  const project = path.join(tmp, 'project');
  fs.mkdirSync(project);
  // allowScripts: npm 11 runs a dependency's install script only when the project allows it.
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, allowScripts: { longrope: true } }));
  for (const f of fs.readdirSync(CONSUMER)) fs.copyFileSync(path.join(CONSUMER, f), path.join(project, f));
  const install = await sh(project, 'npm', 'install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts',
    path.join(tmp, tarballs[0]), `typescript@${versionOf('typescript')}`, `ts-node@${versionOf('ts-node')}`,
    `@types/node@${versionOf('@types/node')}`);
  t.regex(install.stdout + install.stderr, /longrope: using the prebuilt addon/, 'the install script keeps the shipped binary');
  t.log(`pack + install: ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const installed = path.join(project, 'node_modules', 'longrope');
  t.true(fs.existsSync(path.join(installed, 'dist', 'index.d.ts')), 'declarations ship');
  t.false(fs.existsSync(path.join(installed, 'src')), 'compiled JavaScript ships, not the TypeScript sources');
  for (const f of ['CMakeLists.txt', 'cmake/longrope_cuda_env.cmake', 'cmake/cuda-archs.txt', 'native/addon.cc', 'scripts/build.js', 'scripts/lib/find-torch.js']) {
    t.true(fs.existsSync(path.join(installed, f)), `${f} ships (other machines build from source)`);
  }

  const close = (label: string, got: evaluation.PerplexityResult) => {
    t.is(got.tokens, want.tokens, label);
    t.is(got.windows, want.windows, label);
    t.true(Math.abs(got.ppl - want.ppl) <= 1e-6 * want.ppl, `${label}: ppl ${got.ppl} vs ${want.ppl} in-process`);
  };
  const cjs = JSON.parse((await sh(project, process.execPath, 'use.cjs', MODEL)).stdout) as evaluation.PerplexityResult;
  close('CommonJS require', cjs);
  const esm = JSON.parse((await sh(project, process.execPath, 'use.mjs', MODEL)).stdout) as evaluation.PerplexityResult & { missing: string[] };
  close('ESM import', esm);
  t.deepEqual(esm.missing, [], 'every export of require() is a named export of import');

  // ts-node without --transpile-only type-checks use.ts against the shipped declarations; tsc
  // with skipLibCheck off (its default) also checks the declarations themselves.
  const ts = JSON.parse((await sh(project, path.join(project, 'node_modules', '.bin', 'ts-node'), 'use.ts', MODEL)).stdout) as evaluation.PerplexityResult;
  close('TypeScript under ts-node', ts);
  await t.notThrowsAsync(sh(project, path.join(project, 'node_modules', '.bin', 'tsc'), '--noEmit', '-p', '.'));

  const help = await sh(project, path.join(project, 'node_modules', '.bin', 'longrope'), '--help');
  t.regex(help.stdout, /^Usage: longrope/);
  t.log(`all: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
