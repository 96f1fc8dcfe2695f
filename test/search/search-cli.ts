/** The search CLI on tiny-llama (original window 64; target 256), shared by the search and dist tests. */
import fs from 'fs';
import path from 'path';

import { tinyModelCopy } from '../helpers/tiny-model';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'longrope.js');

/** A temp folder (named from `prefix`) with the model and four small text documents. */
export function setup(prefix = 'longrope-search-'): { dir: string; model: string; data: string } {
  const { dir, model } = tinyModelCopy(prefix);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const words = ['grass', 'green', 'sky', 'blue', 'sun', 'yellow', 'there', 'and', 'back', 'again'];
  for (let d = 0; d < 4; d++) fs.writeFileSync(path.join(data, `d${d}.txt`), Array.from({ length: 120 }, (_, i) => words[(i * (d + 3) + (i >> 2)) % words.length]).join(' '));
  return { dir, model, data };
}

/** argv of a small search (P 6, 3 iterations, 2 samples, seed 1) into `out`. */
export const searchArgs = (s: { model: string; data: string }, out: string, extra: string[] = []) => [BIN, 'search', '--model', s.model,
  '--data', s.data, '--target-length', '256', '--out', out, '--population', '6', '--mutations', '3', '--crossovers', '3',
  '--iterations', '3', '--parents', '3', '--samples', '2', '--seed', '1', '--json', ...extra];
