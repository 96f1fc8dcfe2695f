/**
 * A process group over libtorch's c10d (Gloo on CPU, NCCL on CUDA): what sequence parallelism
 * and a search spread over ranks share. Collectives run one at a time in call order (a queue),
 * so every rank issues them in the same order even when callers do not await each one.
 * A dead or silent peer makes the pending call reject within the group's timeout, never hang.
 */
import { checkNumber, inputError, describeValue } from '../common';
import { createNativeProcessGroup, type NativeProcessGroup } from '../native';
import { DistEnv, readDistEnv } from './env';

/** How to join a group. Fields left out come from the environment ({@link readDistEnv}). */
export interface ProcessGroupOptions extends Partial<DistEnv> {
  /** 'gloo' (default): CPU tensors; 'nccl': CUDA (a CUDA build, one GPU per rank). */
  backend?: 'gloo' | 'nccl';
  /**
   * Rendezvous and each collective fail after this many milliseconds. Default: LONGROPE_DIST_TIMEOUT_MS
   * or 10 minutes (a whole long-context forward may sit between two collectives).
   */
  timeoutMs?: number;
}

const WHERE = 'process group';

/** Rank, size and a few collectives over small float arrays; see the module comment. */
export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly backend: 'gloo' | 'nccl';
  private handle: NativeProcessGroup | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  /** Subgroups formed so far: each split's store keys get their own prefix. */
  private splits = 0;

  private constructor(handle: NativeProcessGroup, localRank: number, timeoutMs: number) {
    const info = handle.info();
    this.handle = handle;
    this.timeoutMs = timeoutMs;
    this.rank = info.rank;
    this.worldSize = info.worldSize;
    this.backend = info.backend;
    this.localRank = localRank;
  }

  /**
   * Joins the group: every rank calls it; it resolves once all have joined (rank 0 serves the
   * TCPStore at MASTER_ADDR:MASTER_PORT). Without options it reads RANK, WORLD_SIZE, LOCAL_RANK,
   * MASTER_ADDR and MASTER_PORT, and a process with no WORLD_SIZE becomes a group of one.
   */
  static async init(options: ProcessGroupOptions = {}): Promise<ProcessGroup> {
    const env = readDistEnv() ?? { rank: 0, worldSize: 1, localRank: 0, masterAddr: '127.0.0.1', masterPort: 29500 };
    const o = { ...env, ...options };
    checkNumber(o.worldSize, 'positiveInteger', 'worldSize', WHERE);
    checkNumber(o.rank, 'nonNegativeInteger', 'rank', WHERE);
    if (o.rank >= o.worldSize) throw inputError(WHERE, 'rank', `an integer in [0, ${o.worldSize})`, describeValue(o.rank));
    const backend = o.backend ?? 'gloo';
    if (backend !== 'gloo' && backend !== 'nccl') throw inputError(WHERE, 'backend', "'gloo' or 'nccl'", describeValue(backend));
    const envTimeout = process.env.LONGROPE_DIST_TIMEOUT_MS;
    const timeoutMs = o.timeoutMs ?? (envTimeout ? Number(envTimeout) : 600_000);
    checkNumber(timeoutMs, 'positiveInteger', options.timeoutMs === undefined ? 'LONGROPE_DIST_TIMEOUT_MS' : 'timeoutMs', WHERE);
    const handle = await createNativeProcessGroup({
      rank: o.rank, worldSize: o.worldSize, masterAddr: o.masterAddr, masterPort: o.masterPort,
      backend, deviceIndex: o.localRank, timeoutMs,
    });
    return new ProcessGroup(handle, o.localRank ?? o.rank, timeoutMs);
  }

  /**
   * Splits the group into worldSize / size subgroups of `size` consecutive ranks (ranks k*size ..
   * (k+1)*size - 1 form subgroup k, in which each has rank `rank % size`), as c10d's new_group
   * does: a new group of `backend` (default this group's) connected through this group's store,
   * so no second port. Every rank calls it, in the same order as its other calls on this group,
   * and gets its own subgroup; the two groups then run independently (dispose both).
   * @throws when `size` does not divide the group's ranks.
   */
  async split(size: number, options: { backend?: 'gloo' | 'nccl' } = {}): Promise<ProcessGroup> {
    if (!(Number.isInteger(size) && size >= 1 && this.worldSize % size === 0)) {
      throw inputError(WHERE, 'split size', `a divisor of the group's ${this.worldSize} ranks`, describeValue(size));
    }
    const backend = options.backend ?? this.backend;
    if (backend !== 'gloo' && backend !== 'nccl') throw inputError(WHERE, 'backend', "'gloo' or 'nccl'", describeValue(backend));
    const index = Math.floor(this.rank / size);
    const prefix = `longrope-split-${this.splits++}/${size}/${index}`;
    const handle = await this.enqueue((h) => h.split({
      prefix, rank: this.rank % size, worldSize: size, backend, deviceIndex: this.localRank, timeoutMs: this.timeoutMs,
    }));
    return new ProcessGroup(handle, this.localRank, this.timeoutMs);
  }

  /** Elementwise sum (or max, min) of every rank's array; all ranks get the result. */
  allReduce(data: Float32Array, op: 'sum' | 'max' | 'min' = 'sum'): Promise<Float32Array> {
    return this.enqueue((h) => h.allReduce(data, op));
  }

  /** Every rank's array, indexed by rank. Arrays must have the same length on every rank. */
  async allGather(data: Float32Array): Promise<Float32Array[]> {
    const flat = await this.enqueue((h) => h.allGather(data));
    const n = data.length;
    return Array.from({ length: this.worldSize }, (_, r) => flat.slice(r * n, (r + 1) * n));
  }

  /** Rank `root`'s array on every rank. */
  broadcast(data: Float32Array, root = 0): Promise<Float32Array> {
    return this.enqueue((h) => h.broadcast(data, root));
  }

  /** Resolves once every rank has reached it. */
  barrier(): Promise<void> {
    return this.enqueue((h) => h.barrier());
  }

  /**
   * Runs a native call that uses the group (ring attention, a sequence-parallel NLL) in the same
   * queue as the collectives, so its messages never interleave with another call's.
   */
  run<T>(call: (handle: NativeProcessGroup) => Promise<T>): Promise<T> {
    return this.enqueue(call);
  }

  /** Closes this rank's connections (a call in flight keeps them until it ends). Idempotent. */
  dispose(): void {
    this.handle?.dispose();
    this.handle = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  private enqueue<T>(call: (handle: NativeProcessGroup) => Promise<T>): Promise<T> {
    const handle = this.handle;
    if (!handle) return Promise.reject(new Error('This process group has been disposed'));
    const result = this.tail.then(() => call(handle));
    this.tail = result.catch(() => undefined);
    return result;
  }
}
