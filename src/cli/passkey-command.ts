/**
 * `longrope passkey`: passkey retrieval accuracy at each length (10 trials by default).
 * `--json` prints the result file `longrope report` reads:
 * {"kind": "passkey", "method": label, ..., "results": [{length, accuracy, trials, details}]}.
 */
import type { Command } from 'commander';

import { evaluatePasskey } from '../eval/passkey';
import { Model } from '../model/model';
import { loadTokenizer } from '../model/tokenizer';
import {
  formatTable,
  parseLengths,
  parseNonNegativeInt,
  parsePositiveInt,
  parseRopeArg,
  progressLine,
  ropeLabel,
  writeResultFile,
  withRopeOptions,
} from './rope-arg';

interface PasskeyFlags {
  model: string;
  lengths: string;
  rope?: string;
  factor?: string;
  trials: string;
  seed: string;
  maxNewTokens: string;
  tokenizer?: string;
  device?: string;
  label?: string;
  output?: string;
  json?: boolean;
}

/** Registers `passkey` on the CLI program. */
export function registerPasskeyCommand(program: Command): void {
  withRopeOptions(program.command('passkey'))
    .description('passkey retrieval: a 5-digit key hidden at a random depth of filler, prompts of exactly each length')
    .requiredOption('--model <dir>', 'Hugging Face model directory')
    .requiredOption('--lengths <list>', 'prompt lengths in tokens, comma-separated (4k = 4096)')
    .option('--trials <n>', 'trials per length', '10')
    .option('--seed <s>', 'seed of depths and keys (Python random.Random(seed))', '0')
    .option('--max-new-tokens <n>', 'greedy tokens to decode', '8')
    .option('--tokenizer <dir>', 'tokenizer directory (default --model)')
    .option('--device <d>', 'cpu or cuda[:N]')
    .option('--label <name>', 'method label stored in the result (default from --rope)')
    .option('--output <file>', 'also write the result JSON to this file')
    .option('--json', 'print the result JSON')
    .action(async (flags: PasskeyFlags) => {
      const lengths = parseLengths(flags.lengths);
      const trials = parsePositiveInt(flags.trials, '--trials');
      const seed = parseNonNegativeInt(flags.seed, '--seed');
      const maxNewTokens = parsePositiveInt(flags.maxNewTokens, '--max-new-tokens');
      const tokenizer = await loadTokenizer(flags.tokenizer ?? flags.model);
      const model = await Model.load(flags.model, { device: flags.device });
      try {
        const rope = parseRopeArg(flags.rope, flags.factor, model.config.rope);
        const results = await evaluatePasskey(model, tokenizer, { lengths, trials, seed, rope, maxNewTokens, onProgress: progressLine('passkey trials') });
        const file = { kind: 'passkey', method: flags.label ?? ropeLabel(flags.rope, rope), model: flags.model, rope, seed, results };
        if (flags.output) writeResultFile(flags.output, file);
        if (flags.json) {
          console.log(JSON.stringify(file, null, 2));
          return;
        }
        console.log(`passkey retrieval of ${flags.model} (${file.method}), ${trials} trials per length`);
        const rows = [['length', 'accuracy', 'correct']];
        for (const r of results) rows.push([String(r.length), `${(100 * r.accuracy).toFixed(0)}%`, `${r.details.filter((d) => d.correct).length}/${r.trials}`]);
        console.log(formatTable(rows));
      } finally {
        model.dispose();
      }
    });
}
