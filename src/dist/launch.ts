/**
 * Starts N local processes of one command as one job, the way torchrun does on one machine:
 * each gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT (a free
 * port unless given). SIGINT/SIGTERM reach every child; when one child fails (non-zero exit or a
 * signal) the others are stopped (SIGTERM, then SIGKILL after a grace period) and the job fails.
 */
import { ChildProcess, spawn } from 'child_process';
import net from 'net';

import { checkNumber } from '../common';

/** What to run and how. */
export interface LaunchOptions {
  nproc: number;
  command: string;
  args: string[];
  /** Default 127.0.0.1 (one machine). */
  masterAddr?: string;
  /** Default: a free port picked by the OS. */
  masterPort?: number;
  /** Added to this process's environment for every child. */
  env?: NodeJS.ProcessEnv;
  /** How long stopped children get between SIGTERM and SIGKILL (ms, default 5000). */
  graceMs?: number;
  /** Default 'inherit'; 'pipe' lets callers read each child's output (tests). */
  stdio?: 'inherit' | 'pipe';
  /** Called with each child once started (e.g. to read its piped output). */
  onSpawn?: (rank: number, child: ChildProcess) => void;
}

/** How each rank ended and the job's verdict. */
export interface LaunchResult {
  /** 0 when every rank exited with 0; else the first failure's code (128 + signal number for a signal). */
  exitCode: number;
  /** The first rank that failed, or null. */
  failedRank: number | null;
  ranks: { rank: number; code: number | null; signal: NodeJS.Signals | null }[];
}

/** A TCP port nobody listens on right now (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6 };

/** Runs the job; resolves when every child has exited. */
export async function launch(options: LaunchOptions): Promise<LaunchResult> {
  const nproc = checkNumber(options.nproc, 'positiveInteger', 'nproc', 'launch');
  const masterAddr = options.masterAddr ?? '127.0.0.1';
  const masterPort = options.masterPort ?? (await freePort(masterAddr));
  const graceMs = options.graceMs ?? 5000;
  const ranks: LaunchResult['ranks'] = [];
  const children: ChildProcess[] = [];
  let failedRank: number | null = null;
  let exitCode = 0;
  let killTimer: NodeJS.Timeout | undefined;

  const stopOthers = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    killTimer ??= setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, graceMs);
  };
  const forward = (signal: NodeJS.Signals): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
    killTimer ??= setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, graceMs);
  };
  const onSigint = (): void => forward('SIGINT');
  const onSigterm = (): void => forward('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);

  try {
    const exits = Array.from({ length: nproc }, (_, rank) => {
      const child = spawn(options.command, options.args, {
        stdio: options.stdio ?? 'inherit',
        env: {
          ...process.env,
          ...options.env,
          RANK: String(rank),
          WORLD_SIZE: String(nproc),
          LOCAL_RANK: String(rank),
          LOCAL_WORLD_SIZE: String(nproc),
          MASTER_ADDR: masterAddr,
          MASTER_PORT: String(masterPort),
        },
      });
      children.push(child);
      options.onSpawn?.(rank, child);
      return new Promise<void>((resolve) => {
        const done = (code: number | null, signal: NodeJS.Signals | null): void => {
          ranks.push({ rank, code, signal });
          if ((code !== 0 || signal !== null) && failedRank === null) {
            failedRank = rank;
            exitCode = code !== null && code !== 0 ? code : 128 + (signal ? SIGNAL_NUMBERS[signal] ?? 1 : 1);
            stopOthers();
          }
          resolve();
        };
        child.once('error', (e) => {
          console.error(`longrope launch: rank ${rank} could not start ${options.command}: ${e.message}`);
          done(127, null);
        });
        child.once('exit', done);
      });
    });
    await Promise.all(exits);
  } finally {
    if (killTimer) clearTimeout(killTimer);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
  ranks.sort((a, b) => a.rank - b.rank);
  return { exitCode, failedRank, ranks };
}
