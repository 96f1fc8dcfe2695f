/**
 * The plain values the data layer hands on, and its one error type. Messages follow the
 * project's grammar `[<where>: ]Expected <what> for <field> but received <value>` so a CLI
 * can show them as they are.
 */
import { describeValue, expectedMessage, InputError } from '../common/errors';

export { describeValue };

/** Where a document came from: a bundled corpus, or the user's files. */
export type DocumentSource = 'kjv' | 'brown' | 'file';

/** One text document; `id` is unique within a corpus (`kjv/01-Genesis`, `brown/ca01`, `data.jsonl:3`). */
export interface Document {
  id: string;
  source: DocumentSource;
  text: string;
  /** The file's bytes when they are not valid UTF-8 (`text` then holds U+FFFD in their place):
   *  a byte-level tokenizer reads these as they are. */
  bytes?: Uint8Array;
}

/** Documents as the data layer accepts them: an array, any iterable, or a stream. */
export type Documents = Iterable<Document> | AsyncIterable<Document>;

/** Token sequences as the data layer accepts them. */
export type TokenStreams = Iterable<Int32Array> | AsyncIterable<Int32Array>;

/** Thrown for bad data input: a missing corpus, a bad file line, a too-short training text. */
export class DataError extends InputError {
  constructor(message: string, field: string) {
    super(message, field);
    this.name = 'DataError';
  }
}

/** Builds a {@link DataError}; `received` is already formatted (see {@link describeValue}). */
export function dataError(where: string | undefined, field: string, expected: string, received: string): DataError {
  return new DataError(expectedMessage(where, field, expected, received), field);
}

/** `value` if it is an integer >= `min`, else a {@link DataError} naming `field`. */
export function checkInteger(value: unknown, min: number, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
  const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
  throw dataError(undefined, field, what, describeValue(value));
}

/** Iterates arrays, iterables and async iterables alike. */
export async function* toAsync<T>(items: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
  yield* items as AsyncIterable<T>;
}
