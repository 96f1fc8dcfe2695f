/**
 * The variables torchrun, Slurm setups and `longrope launch` set for each process of a job:
 * RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. Read once, checked, named in errors.
 */
import { describeValue, inputError } from '../common';

/** Where this process stands in a multi-process job. */
export interface DistEnv {
  rank: number;
  worldSize: number;
  /** Index among the processes of this machine: the GPU a rank uses. */
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

const WHERE = 'distributed environment';

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max: number, fallback?: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw inputError(WHERE, name, `an integer in [${min}, ${max}]`, 'undefined (the variable is not set)');
  }
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw inputError(WHERE, name, `an integer in [${min}, ${max}]`, describeValue(raw));
  }
  return value;
}

/**
 * The job's variables from `env`, or null when WORLD_SIZE is not set (a plain single-process run).
 * Throws an InputError naming the variable when one is missing or malformed.
 */
export function readDistEnv(env: NodeJS.ProcessEnv = process.env): DistEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '') return null;
  const worldSize = integer(env, 'WORLD_SIZE', 1, 1 << 20);
  const rank = integer(env, 'RANK', 0, worldSize - 1);
  return {
    rank,
    worldSize,
    localRank: integer(env, 'LOCAL_RANK', 0, worldSize - 1, rank),
    masterAddr: env.MASTER_ADDR && env.MASTER_ADDR !== '' ? env.MASTER_ADDR : '127.0.0.1',
    masterPort: integer(env, 'MASTER_PORT', 1, 65535, 29500),
  };
}
