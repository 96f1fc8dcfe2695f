/** Test set-up shared by the CLI tests: a temp folder with a copy of tiny-llama that uses the byte tokenizer. */
import fs from 'fs';
import os from 'os';
import path from 'path';

/** The tiny random LLaMA fixture (vocab 300, window 64, head dim 16). */
export const TINY = path.join(__dirname, '..', 'fixtures', 'model', 'tiny-llama');

/** A fresh temp folder holding `model/`: tiny-llama with tokenizer_config.json naming the byte tokenizer. */
export function tinyModelCopy(prefix: string): { dir: string; model: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const model = path.join(dir, 'model');
  fs.cpSync(TINY, model, { recursive: true });
  fs.writeFileSync(path.join(model, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'LongropeByteTokenizer' }));
  return { dir, model };
}
