/**
 * Runs the benchmarks' Python peers (tools/peer/*.py: Hugging Face transformers on PyTorch CPU)
 * with a JSON request on stdin, one JSON line per result on stdout. The Python is the first of
 * $LONGROPE_PEER_PYTHON, the project's CPU venvs and python3; a missing interpreter or package
 * comes back as `{ skipped: reason }` so a benchmark can say why it has no peer figures.
 */
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

const ROOT = path.join(__dirname, '..', '..');

/** The first Python that can run a peer: $LONGROPE_PEER_PYTHON, the project's CPU venvs, python3. */
export function peerPython(): string {
  const home = os.homedir();
  const candidates = [
    process.env.LONGROPE_PEER_PYTHON,
    path.join(home, '.cache', 'longrope', 'venv-cpu', 'bin', 'python'),
    path.join(home, '.cache', 'longrope', 'venv-peer', 'bin', 'python'),
  ].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(p)) ?? 'python3';
}

/** Runs tools/peer/<script> on `request`; the parsed output lines, or why there are none. */
export function runPeer<T>(script: string, request: unknown): { python: string; lines: T[] } | { skipped: string } {
  const python = peerPython();
  const file = path.join(ROOT, 'tools', 'peer', script);
  const r = spawnSync(python, [file], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) return { skipped: `cannot run ${python}: ${r.error.message}` };
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (r.status === 3) return { skipped: lines[0]?.skipped ?? 'python packages missing' };
  if (r.status !== 0) return { skipped: `${python} ${file} failed (exit ${r.status}): ${r.stderr.trim().split('\n').pop()}` };
  return { python, lines: lines as T[] };
}
