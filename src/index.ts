/**
 * The public API of longrope. Import from here; deeper paths are internal and may move.
 */
export * from './rope';
export { applyRotary, rotaryGradients } from './model/rotary';
export type { RotaryOptions, RotaryResult } from './model/rotary';
export type { HostTensor, RuntimeInfo } from './native';
export { Model } from './model/model';
export type { LoadOptions, ForwardOptions, GenerateOptions, GenerateResult, RopeChoice } from './model/model';
export { readModelConfig, parseModelConfig, type ModelConfig } from './model/config';
export { readCheckpoint } from './model/checkpoint';
export { loadTokenizer, ByteTokenizer, type Tokenizer } from './model/tokenizer';
export { estimateMemory, formatBytes } from './model/estimate';
export * as data from './data';
export { Trainer } from './train/trainer';
export { finetune, type FinetuneOptions, type FinetuneResult } from './train/finetune';
export { learningRate, RECIPES, type Schedule } from './train/schedule';
export * as evaluation from './eval';
export * as report from './report';
export type { JobOptions, ProgressCallback } from './job';

import { native, type RuntimeInfo } from './native';

/** What the loaded native addon offers: libtorch version, CUDA build and devices, threads. */
export function runtimeInfo(): RuntimeInfo {
  return native().runtimeInfo();
}
