/**
 * `longrope passkey`: passkey retrieval accuracy at each length (10 trials by default).
 * `--json` prints the result file `longrope report` reads:
 * {"kind": "passkey", "method": label, ..., "results": [{length, accuracy, trials, details}]}.
 */
import type { Command } from 'commander';

import { evaluatePasskey } from '../eval/passkey';
import { registerEvalCommand, type EvalFlags } from './eval-command';
import { progressLine } from './output';
import { parseLengths, parseNonNegativeInt, parsePositiveInt } from './rope-arg';

interface PasskeyFlags extends EvalFlags {
  lengths: string;
  trials: string;
  seed: string;
  maxNewTokens: string;
}

/** Registers `passkey` on the CLI program. */
export function registerPasskeyCommand(program: Command): void {
  registerEvalCommand(program, {
    name: 'passkey',
    kind: 'passkey',
    description: 'passkey retrieval: a 5-digit key hidden at a random depth of filler, prompts of exactly each length',
    options: (c) => c
      .requiredOption('--lengths <list>', 'prompt lengths in tokens, comma-separated (4k = 4096)')
      .option('--trials <n>', 'trials per length', '10')
      .option('--seed <s>', 'seed of depths and keys (Python random.Random(seed))', '0')
      .option('--max-new-tokens <n>', 'greedy tokens to decode', '8'),
    parse: (f: PasskeyFlags) => ({
      lengths: parseLengths(f.lengths),
      trials: parsePositiveInt(f.trials, '--trials'),
      seed: parseNonNegativeInt(f.seed, '--seed'),
      maxNewTokens: parsePositiveInt(f.maxNewTokens, '--max-new-tokens'),
    }),
    async run(model, plan, context) {
      const tokenizer = await context.tokenizer();
      const results = await evaluatePasskey(model, tokenizer, { ...plan, rope: context.rope, onProgress: progressLine('passkey trials') });
      return { seed: plan.seed, results };
    },
    table: (r, plan, file) => ({
      title: `passkey retrieval of ${file.model} (${file.method}), ${plan.trials} trials per length`,
      rows: [['length', 'accuracy', 'correct'], ...r.results.map((x) => [
        String(x.length), `${(100 * x.accuracy).toFixed(0)}%`, `${x.details.filter((d) => d.correct).length}/${x.trials}`,
      ])],
    }),
  });
}
