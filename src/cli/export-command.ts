/**
 * `longrope export --model DIR --rope SPEC --out DIR`: a Hugging Face model directory with the
 * RoPE spec (e.g. a search's best.json) in config.json, loadable by transformers, vLLM and
 * llama.cpp. Weights are copied, not converted.
 */
import type { Command } from 'commander';

import { readModelConfig } from '../model/config';
import { exportModel } from '../model/export';
import { parseRopeArg, withRopeOptions } from './rope-arg';

/** Registers `export` on the CLI program. */
export function registerExportCommand(program: Command): void {
  withRopeOptions(program.command('export'))
    .description('write a Hugging Face model directory with a RoPE spec (rope_scaling: longrope) in its config')
    .requiredOption('--model <dir>', 'Hugging Face model directory')
    .requiredOption('--out <dir>', 'new or empty output directory')
    .option('--json', 'print what was written as JSON')
    .action((f: { model: string; rope?: string; factor?: string; out: string; json?: boolean }) => {
      const config = readModelConfig(f.model);
      if (f.rope === undefined) throw new Error('Expected a RoPE spec for --rope (a JSON file such as a search\'s best.json, or a method with --factor) but received nothing');
      const rope = parseRopeArg(f.rope, f.factor, config.rope);
      const r = exportModel(f.model, rope, f.out, { rope: f.rope });
      for (const w of r.warnings) console.error(`longrope: warning: ${w}`);
      if (f.json) console.log(JSON.stringify({ dir: r.dir, files: r.files, warnings: r.warnings, rope_scaling: r.config.rope_scaling }, null, 2));
      else console.log(`wrote ${r.dir} (${r.files.join(', ')})`);
    });
}
