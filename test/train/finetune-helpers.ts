/** The fine-tune CLI runs that test/train/finetune-resume.test.ts and test/dist's launched runs share. */
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'longrope.js');
const TINY = path.join(__dirname, '..', 'fixtures', 'model', 'tiny-llama');

/** A copy of tiny-llama (bf16 config, byte tokenizer) and a small corpus in a temp folder. */
export function setup(): { dir: string; model: string; data: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-ft-'));
  const model = path.join(dir, 'base');
  fs.cpSync(TINY, model, { recursive: true });
  fs.writeFileSync(path.join(model, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'LongropeByteTokenizer' }));
  // A bf16 base: the final model is saved in bf16, while checkpoints hold fp32 master weights, so
  // a resumed run (which loads a checkpoint) must still save what an uninterrupted one does.
  const configFile = path.join(model, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), torch_dtype: 'bfloat16' }));
  const words = ['grass', 'green', 'sky', 'blue', 'sun', 'yellow', 'there', 'and', 'back', 'again', 'light', 'water'];
  const text = Array.from({ length: 3000 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' ');
  const data = path.join(dir, 'corpus.txt');
  fs.writeFileSync(data, text);
  return { dir, model, data };
}

/** `longrope finetune` argv: 40 steps of 2 segments of 64 tokens, a checkpoint every 5. */
export const args = (s: { model: string; data: string }, out: string, extra: string[] = []) => [BIN, 'finetune', '--model', s.model,
  '--data', s.data, '--length', '64', '--rope', 'linear', '--factor', '2', '--steps', '40', '--out', out,
  '--checkpoint-every', '5', '--global-batch', '2', '--micro-batch', '1', '--lr', '1e-3', '--schedule', 'linear',
  '--warmup', '3', '--json', ...extra];

/**
 * Starts the CLI with `argv`, SIGKILLs it once checkpoint `step` exists in `out`. The process is
 * told to halt after that checkpoint (LONGROPE_TEST_HALT_AFTER_CHECKPOINT), so the kill lands
 * there however fast the machine is, never after the run finished. `victim` picks the process to
 * kill from the started one's pid (default itself; a rank of a `longrope launch`). Resolves with
 * how the started process ended.
 */
export async function killAfterCheckpoint(argv: string[], out: string, step: number, victim: (pid: number) => number = (pid) => pid):
  Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, argv, { stdio: 'ignore', env: { ...process.env, LONGROPE_TEST_HALT_AFTER_CHECKPOINT: String(step) } });
  const latest = path.join(out, 'training', 'checkpoints', 'latest.json');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if (fs.existsSync(latest) && JSON.parse(fs.readFileSync(latest, 'utf8')).step === step) {
        clearInterval(poll);
        process.kill(victim(child.pid!), 'SIGKILL');
        resolve();
      }
    }, 20);
    child.on('exit', () => { clearInterval(poll); resolve(); });
    child.on('error', reject);
  });
  return exited;
}

/** The lines of a run's metrics.jsonl. */
export const metrics = (out: string) => fs.readFileSync(path.join(out, 'training', 'metrics.jsonl'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as { step: number; loss: number; lr: number });
