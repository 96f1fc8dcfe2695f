/**
 * `longrope estimate --model DIR --length N`: predicted peak memory of a run before loading
 * anything, so a 7B run at 128k can be planned (see src/model/estimate.ts for the model of memory).
 */
import os from 'os';
import type { Command } from 'commander';

import { readModelConfig } from '../model/config';
import { estimateMemory, formatBytes } from '../model/estimate';
import { parseChoice, parsePositiveInt, parsePositiveNumber } from './rope-arg';

interface EstimateFlags {
  model: string;
  length: string;
  device: 'cpu' | 'cuda';
  dtype?: 'float32' | 'bfloat16';
  mode: 'nll' | 'generate' | 'train';
  chunk?: string;
  batch?: string;
  ranks?: string;
  memory?: string;
  json?: boolean;
}

/** Registers `estimate` on the CLI program. */
export function registerEstimateCommand(program: Command): void {
  program
    .command('estimate')
    .description('predict peak memory of an NLL pass, generation or training step at a given length')
    .requiredOption('--model <dir>', 'Hugging Face model directory (only config.json is read)')
    .requiredOption('--length <n>', 'tokens per sequence')
    .option('--device <d>', 'cpu or cuda', 'cpu')
    .option('--dtype <t>', 'float32 or bfloat16 (default: float32 on cpu, bfloat16 on cuda)')
    .option('--mode <m>', 'nll, generate or train', 'nll')
    .option('--chunk <n>', 'tokens per MLP / logits chunk')
    .option('--batch <n>', 'sequences at once')
    .option('--ranks <n>', 'processes (GPUs) each sequence is split over (sequence parallel): per-rank memory')
    .option('--memory <GB>', 'memory available (default: this machine\'s RAM for cpu)')
    .option('--json', 'print the estimate as JSON')
    .action((flags: EstimateFlags) => {
      // Every flag is checked (and named) before config.json is read.
      const length = parsePositiveInt(flags.length, '--length');
      const device = parseChoice(flags.device, '--device', ['cpu', 'cuda'] as const);
      const mode = parseChoice(flags.mode, '--mode', ['nll', 'generate', 'train'] as const);
      const dtype = flags.dtype === undefined ? undefined : parseChoice(flags.dtype, '--dtype', ['float32', 'bfloat16'] as const);
      const chunk = flags.chunk === undefined ? undefined : parsePositiveInt(flags.chunk, '--chunk');
      const batch = flags.batch === undefined ? undefined : parsePositiveInt(flags.batch, '--batch');
      const ranks = flags.ranks === undefined ? undefined : parsePositiveInt(flags.ranks, '--ranks');
      const memory = flags.memory === undefined ? undefined : parsePositiveNumber(flags.memory, '--memory');
      const config = readModelConfig(flags.model);
      const est = estimateMemory(config, { length, device, dtype, mode, chunk, batch, ranks });
      const available = memory !== undefined ? memory * 1e9 : device === 'cpu' ? os.totalmem() : null;
      const fits = available === null ? null : est.totalBytes <= available;
      // Exit 2 when it does not fit, whatever the output format: scripts test the exit code.
      if (fits === false) process.exitCode = 2;
      if (flags.json) {
        console.log(JSON.stringify({ ...est, availableBytes: available, fits }, null, 2));
        return;
      }
      const per = ranks !== undefined && ranks > 1 ? ` per rank of ${ranks} (sequence parallel)` : '';
      console.log(`${flags.mode} at ${flags.length} tokens on ${flags.device}: ${formatBytes(est.totalBytes)} estimated peak${per}`);
      for (const [k, v] of Object.entries(est.breakdown)) console.log(`  ${k.padEnd(18)} ${formatBytes(v).padStart(10)}`);
      if (available !== null) {
        console.log(fits ? `fits in ${formatBytes(available)}` : `does NOT fit in ${formatBytes(available)}`);
      }
    });
}
