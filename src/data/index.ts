/**
 * The data layer: corpora that packages ship, the fixed train/eval split, user files, tokenising
 * and packing into segments, the resumable training order, and synthetic passkey sequences.
 * Everything hands on plain values: documents -> Int32Array token arrays -> segments.
 */
export * from './types';
export * from './tokenizer';
export * from './corpora';
export * from './splits';
export * from './readers';
export { readParquet, openFileBuffer, PARQUET_COMPRESSORS, type ParquetOptions, type FileBuffer } from './parquet';
export * from './chunking';
export * from './segment-stream';
export * from './passkey-text';
export * from './passkey-synthetic';
export * from './pretraining';
export * from './copy-synthetic';
export { hash32, Prng, permutation } from '../common/prng';
