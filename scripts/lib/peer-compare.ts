/**
 * `npm run bench:model`'s comparison with the peer a user would run instead: Hugging Face
 * transformers (SDPA on CPU) through tools/peer/transformers_nll.py, on the same HF directory
 * (models/tiny-base with YaRN written into its config for each window length), the same bytes of
 * text, one window per document. Reports per length our median time, the peer's, the ratio, both
 * mean NLLs, and where our window's time went (native counters from `forwardProfile`).
 * Skips the peer with a stated reason where no Python with torch and transformers is found.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';

import { readModelConfig, type ModelConfig } from '../../src/model/config';
import { Model } from '../../src/model/model';
import { native, type NativeForwardProfile } from '../../src/native';
import { hfConfigPatchFromSpec } from '../../src/rope/hf-config';
import type { RopeSpec } from '../../src/rope/types';
import { median } from './median';
import { runPeer } from './peer-python';

const ROOT = path.join(__dirname, '..', '..');

/** One window length's figures. Times in ms (medians); breakdown in ms per window. */
export interface PeerRow {
  length: number;
  oursMs: number;
  peerMs: number | null;
  /** peer time over ours: > 1 means we are faster. */
  speedupVsPeer: number | null;
  /** Least process CPU time of a window (all threads), ours and the peer's, and their ratio. */
  oursCpuMs: number;
  peerCpuMs: number | null;
  speedupVsPeerCpu: number | null;
  /** torch's CPU SDPA alone for every layer of the window (the peer's attention share), ms. */
  peerSdpaMs: number | null;
  oursMeanNll: number;
  peerMeanNll: number | null;
  nllRelativeDifference: number | null;
  breakdownMs: { attention: number; gemm: number; ropeNormActivation: number; lmHeadLoss: number; otherNative: number; outsideNative: number };
  /** Our window's FLOPs over its time, as a share of the fp32 GEMM rate measured in the run (the limit). */
  shareOfGemmPeak: number;
}

export interface PeerComparison {
  model: string;
  method: 'yarn';
  peer: { python: string; torch: string; transformers: string; attention: string; threads: number } | { skipped: string };
  /** This machine's fp32 GEMM rate through our libtorch (1024^3, best of 10), GFLOP/s. */
  machineGemmGflops: number;
  rows: PeerRow[];
}

/** Forward FLOPs for NLL over n tokens: every GEMM, causal attention counted once (n^2/2 pairs). */
export function forwardFlops(c: ModelConfig, n: number): number {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const perTokenLayer = 2 * (c.hiddenSize * (q + 2 * kv) + q * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize);
  const attentionLayer = 2 * 2 * (n * n / 2) * q;
  return c.numLayers * (n * perTokenLayer + attentionLayer) + 2 * n * c.hiddenSize * c.vocabSize;
}

/** Bytes of the repository's prose (the tiny model is byte-level), repeated to `n` tokens. */
function documentTokens(n: number): Int32Array {
  const text = ['README.md', 'docs/data.md', 'docs/evaluation.md']
    .map((f) => fs.readFileSync(path.join(ROOT, f))).reduce((a, b) => Buffer.concat([a, b]));
  return Int32Array.from({ length: n }, (_, i) => text[i % text.length]);
}

function yarnSpec(modelDir: string, length: number): RopeSpec {
  const c = readModelConfig(modelDir);
  return { ...c.rope, method: 'yarn', length };
}

/** An HF directory whose config carries `spec` (weights linked, not copied). */
function hfDirFor(modelDir: string, spec: RopeSpec, parent: string): string {
  const dir = fs.mkdtempSync(path.join(parent, `w${spec.length}-`));
  const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, ...hfConfigPatchFromSpec(spec) }, null, 2));
  fs.symlinkSync(path.resolve(modelDir, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  return dir;
}

/**
 * Timed windows per length, after `warmUpsFor` untimed ones of the same length on both sides: the
 * first windows at a new length grow the heap and page-fault their activations (~10 us a fault
 * here; 2k tokens: 150-200 ms extra on each of the first calls, on both sides), which a search's
 * thousands of windows at one length never pay again. Steady state is the figure that counts.
 */
function repeatsFor(length: number): number {
  return length <= 8192 ? 5 : 2;
}
function warmUpsFor(length: number): number {
  return length <= 8192 ? 3 : 1;
}

interface PeerLine { length: number; ms: number; cpuMs: number; sdpaMs: number; nllSum: number; torch: string; transformers: string; attention: string; threads: number }

function runTransformers(windows: { dir: string; tokens: Int32Array }[], threads: number) {
  return runPeer<PeerLine>('transformers_nll.py', {
    threads,
    windows: windows.map((w) => ({ dir: w.dir, tokens: Array.from(w.tokens), repeats: repeatsFor(w.tokens.length),
      warmUps: warmUpsFor(w.tokens.length) })),
  });
}

function perWindow(p: NativeForwardProfile, windows: number, wallMs: number): PeerRow['breakdownMs'] {
  const d = (x: number) => Math.round(x / windows);
  const parts = p.attentionMs + p.gemmMs + p.ropeNormMs + p.lmHeadLossMs;
  return {
    attention: d(p.attentionMs), gemm: d(p.gemmMs), ropeNormActivation: d(p.ropeNormMs), lmHeadLoss: d(p.lmHeadLossMs),
    otherNative: d(p.nativeCallMs - parts), outsideNative: d(wallMs - p.nativeCallMs),
  };
}

/** Times our NLL per window and the peer's at each length, in this process and one Python process. */
export async function comparePeer(modelDir: string, lengths: number[]): Promise<PeerComparison> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-peer-'));
  try {
    const model = await Model.load(modelDir);
    const threads = native().runtimeInfo().threads;
    const gemm = await native().matmulBenchmark({ m: 1024, n: 1024, k: 1024, iterations: 10 });
    const ours: Omit<PeerRow, 'peerMs' | 'speedupVsPeer' | 'peerCpuMs' | 'speedupVsPeerCpu' | 'peerSdpaMs' | 'peerMeanNll' | 'nllRelativeDifference'>[] = [];
    const windows: { dir: string; tokens: Int32Array }[] = [];
    for (const n of lengths) {
      const tokens = documentTokens(n);
      const spec = yarnSpec(modelDir, n);
      windows.push({ dir: hfDirFor(modelDir, spec, tmp), tokens });
      const times: number[] = [];
      const cpu: number[] = [];
      let nll: Float32Array | null = null;
      for (let i = 0; i < warmUpsFor(n); i++) await model.nll(tokens, { rope: spec });
      native().forwardProfile(true);
      for (let i = 0; i < repeatsFor(n); i++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        nll = await model.nll(tokens, { rope: spec });
        times.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      const profile = native().forwardProfile(true);
      const sum = nll!.reduce((a, b) => a + b, 0);
      const oursMs = median(times);
      ours.push({ length: n, oursMs: Math.round(oursMs), oursCpuMs: Math.round(Math.min(...cpu)), oursMeanNll: sum / nll!.length,
        shareOfGemmPeak: forwardFlops(model.config, n) / (oursMs / 1000) / 1e9 / gemm.gflops,
        breakdownMs: perWindow(profile, times.length, times.reduce((a, b) => a + b, 0)) });
    }
    model.dispose();
    const run = runTransformers(windows, threads);
    const peer = 'lines' in run ? run.lines : null;
    const rows: PeerRow[] = ours.map((o, i) => {
      if (!peer) {
        return { ...o, peerMs: null, speedupVsPeer: null, peerCpuMs: null, speedupVsPeerCpu: null, peerSdpaMs: null, peerMeanNll: null,
          nllRelativeDifference: null };
      }
      const p = peer[i];
      const peerMean = p.nllSum / (o.length - 1);
      return { ...o, peerMs: Math.round(p.ms), speedupVsPeer: p.ms / o.oursMs, peerCpuMs: Math.round(p.cpuMs),
        speedupVsPeerCpu: p.cpuMs / o.oursCpuMs, peerSdpaMs: Math.round(p.sdpaMs), peerMeanNll: peerMean,
        nllRelativeDifference: Math.abs(o.oursMeanNll - peerMean) / peerMean };
    });
    const info = peer && 'python' in run
      ? { python: run.python, torch: peer[0].torch, transformers: peer[0].transformers, attention: peer[0].attention, threads: peer[0].threads }
      : { skipped: 'skipped' in run ? run.skipped : 'no output' };
    return { model: path.relative(ROOT, modelDir) || modelDir, method: 'yarn', peer: info, machineGemmGflops: gemm.gflops, rows };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
