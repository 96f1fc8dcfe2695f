/** What every area needs and none owns: the error grammar, atomic writes, bounded readers. */
export * from './errors';
export * from './files';
export * from './objects';
export * from './prng';
export * from './run-lock';
