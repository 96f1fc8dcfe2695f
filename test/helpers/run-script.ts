/** Runs one of the repository's TypeScript scripts the way `npm run` does (ts-node, transpile only). */
import { spawnSync } from 'child_process';
import path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** `node -r ts-node/register/transpile-only ROOT/<script> args...` in ROOT, output as text. */
export function runTsScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 280_000) {
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, script), ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...env }, timeout,
  });
}
