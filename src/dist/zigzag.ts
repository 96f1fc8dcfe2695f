/**
 * The zigzag layout of ring attention: a sequence of S tokens cut into 2N chunks of c = S / 2N,
 * rank r holding chunks r and 2N-1-r (early and late tokens, so causal work is even). Token
 * positions, RoPE positions and sharded tensors all follow these indices.
 */
import { checkNumber, describeValue, inputError } from '../common';

/** The sequence indices rank `rank` holds, in its local order (chunk r, then chunk 2N-1-r). */
export function zigzagIndices(seqLen: number, worldSize: number, rank: number): Int32Array {
  checkNumber(worldSize, 'positiveInteger', 'worldSize', 'zigzag layout');
  checkNumber(rank, 'nonNegativeInteger', 'rank', 'zigzag layout');
  if (!Number.isInteger(seqLen) || seqLen <= 0 || seqLen % (2 * worldSize) !== 0) {
    throw inputError('zigzag layout', 'seqLen', `a positive multiple of 2 x worldSize (${2 * worldSize})`, describeValue(seqLen));
  }
  const c = seqLen / (2 * worldSize);
  const out = new Int32Array(2 * c);
  for (let i = 0; i < c; i++) {
    out[i] = rank * c + i;
    out[c + i] = (2 * worldSize - 1 - rank) * c + i;
  }
  return out;
}

/**
 * Rows `indices` of a row-major [B, S, ...rest] array (rowSize = product of rest): the local
 * shard of a full tensor. `batch` rows of S each.
 */
export function takeRows(data: Float32Array, batch: number, seqLen: number, rowSize: number, indices: Int32Array): Float32Array {
  const out = new Float32Array(batch * indices.length * rowSize);
  for (let b = 0; b < batch; b++) {
    indices.forEach((s, i) => {
      const from = (b * seqLen + s) * rowSize;
      out.set(data.subarray(from, from + rowSize), (b * indices.length + i) * rowSize);
    });
  }
  return out;
}
