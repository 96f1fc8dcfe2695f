/**
 * One process per run directory: `lock.json` is created exclusively (O_EXCL) and holds the
 * owner's pid and host. A lock whose process is gone (killed, crashed) is stale and taken over;
 * a live owner makes the second process fail with an error naming it, before it touches anything.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import { readJsonFile } from './files';
import { isObject } from './objects';

const LOCK_FILE = 'lock.json';

/** Whether process `pid` exists on this machine (EPERM: it exists but is not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock on a run directory; release it when the run ends (also on errors). */
export class RunLock {
  private constructor(private readonly file: string) {}

  /** Takes the lock of `dir`, replacing a stale one. Throws when a live process holds it. */
  static acquire(dir: string): RunLock {
    const file = path.join(dir, LOCK_FILE);
    const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }) + '\n';
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, mine, { flag: 'wx' });
        return new RunLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let owner: unknown;
      try {
        owner = readJsonFile(file);
      } catch {
        owner = undefined;  // torn by a crash mid-write: stale
      }
      const pid = isObject(owner) && Number.isSafeInteger(owner.pid) ? (owner.pid as number) : null;
      const sameHost = isObject(owner) && owner.host === os.hostname();
      if (pid !== null && (!sameHost || alive(pid))) {
        throw new Error(`${dir} is in use by process ${pid}${sameHost ? '' : ` on ${String(owner && (owner as Record<string, unknown>).host)}`} ` +
          `(${file}); wait for it to finish, or remove the lock file if that process is gone`);
      }
      fs.rmSync(file, { force: true });  // stale: its process is gone
    }
    throw new Error(`${file}: could not take the lock (another process took it meanwhile)`);
  }

  /** Releases the lock. Idempotent. */
  release(): void {
    fs.rmSync(this.file, { force: true });
  }
}
