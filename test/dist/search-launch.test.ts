/**
 * The search under `longrope launch`: a rank killed with SIGKILL mid-search fails the job, and
 * `--resume` under the launcher ends exactly where an uninterrupted one-process search does.
 */
import { execFile, spawn } from 'child_process';
import fs from 'fs';
import path from 'path';
import { promisify } from 'util';

import test from 'ava';

import { native } from '../../src/native';
import { BIN, searchArgs, setup } from '../search/search-cli';
import { rankPid } from './rank-pid';

const run = promisify(execFile);
const testGloo = native().distInfo().gloo ? test.serial : test.serial.skip;

testGloo('a search under launch: a killed rank fails the job; --resume under launch ends where one process does', async (t) => {
  t.timeout(300_000);
  const s = setup();
  const straight = JSON.parse((await run(process.execPath, searchArgs(s, path.join(s.dir, 'straight')))).stdout);
  const out = path.join(s.dir, 'launched');
  const launchArgv = (extra: string[] = []) => [BIN, 'launch', '--nproc', '2', '--', ...searchArgs(s, out, extra).slice(1)];
  // Both ranks halt once evaluation 8 is saved; rank 1 is killed there.
  const child = spawn(process.execPath, launchArgv(), { stdio: 'ignore', env: { ...process.env, LONGROPE_TEST_HALT_AFTER_EVALUATION: '8' } });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let killed = false;
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const f = path.join(out, 'search.json');
      try {
        if (fs.existsSync(f) && JSON.parse(fs.readFileSync(f, 'utf8')).state.evaluations === 8) {
          clearInterval(poll);
          process.kill(rankPid(child.pid!, 1), 'SIGKILL');
          killed = true;
          resolve();
        }
      } catch {
        // The state file is replaced atomically; a read between rename steps retries.
      }
    }, 20);
    child.on('exit', () => { clearInterval(poll); resolve(); });
  });
  t.true(killed, 'rank 1 was killed mid-search');
  t.is(await exited, 128 + 9, 'the job fails with the killed rank\'s signal');
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'search.json'), 'utf8')).state;
  t.true(saved.evaluations >= 8 && saved.evaluations < straight.evaluations, `stopped mid-search at ${saved.evaluations}`);

  const { stdout } = await run(process.execPath, launchArgv(['--resume']));
  t.is(stdout.split('"bestSpec"').length, 2, 'rank 0 alone prints its result');
  const resumed = JSON.parse(stdout);
  t.is(resumed.evaluations, straight.evaluations, 'no evaluation lost or repeated');
  t.deepEqual(resumed.bestSpec, straight.bestSpec);
  t.is(resumed.bestFitness, straight.bestFitness);
  fs.rmSync(s.dir, { recursive: true, force: true });
});
