/** Beyond one process: process groups over c10d, `launch`, the zigzag layout of ring attention. */
export * from './env';
export * from './launch';
export * from './process-group';
export * from './zigzag';
