/**
 * The Python that has the peer packages (torch + transformers) for the tests that compare with
 * transformers: LONGROPE_PYTHON, else the CPU venv that CI creates (~/.cache/longrope/venv-cpu),
 * else python3. `reason` says why none is usable (the tests then skip, saying it).
 */
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

export function peerPython(): { python: string | null; reason: string } {
  const candidates = [process.env.LONGROPE_PYTHON, path.join(os.homedir(), '.cache', 'longrope', 'venv-cpu', 'bin', 'python'), 'python3']
    .filter((p): p is string => Boolean(p) && (p === 'python3' || fs.existsSync(p!)));
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, transformers; print(transformers.__version__)'], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return { python, reason: '' };
  }
  return { python: null, reason: `no Python with torch and transformers (tried ${candidates.join(', ')}); CI installs them (see .ci/run)` };
}
