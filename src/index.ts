/**
 * The public API of longrope. Import from here; deeper paths are internal and may move.
 */
export * from './rope';
export { applyRotary, rotaryGradients } from './model/rotary';
export type { RotaryOptions, RotaryResult } from './model/rotary';
export type { HostTensor, RuntimeInfo } from './native';
export { Model } from './model/model';
export type { LoadOptions, ForwardOptions, GenerateOptions, GenerateResult } from './model/model';
export { InputError } from './common/errors';
export { readModelConfig, parseModelConfig, type ModelConfig } from './model/config';
export { readCheckpoint } from './model/checkpoint';
export { exportModel, type ExportResult } from './model/export';
export { loadTokenizer, ByteTokenizer, type Tokenizer } from './data/tokenizer';
export { estimateMemory, formatBytes } from './model/estimate';
export * as data from './data';
export { Trainer, type OptimizerOptions, type StepOptions, type StepResult } from './train/trainer';
export { finetune, type FinetuneOptions, type FinetuneResult } from './train/finetune';
export { learningRate, RECIPES, type Schedule } from './train/schedule';
export * as evaluation from './eval';
export * as search from './search';
export * as report from './report';
export type { JobOptions, ProgressCallback } from './job';
export { runtimeInfo } from './model/runtime';
export * as dist from './dist';
