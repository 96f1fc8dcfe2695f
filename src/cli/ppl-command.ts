/**
 * `longrope ppl`: perplexity by the paper's sliding-window protocol at several lengths.
 * `--json` prints the result file (also written with `--output FILE`) that `longrope report`
 * reads: {"kind": "perplexity", "method": label, ..., "results": [{length, ppl, tokens,
 * windows, documents, skipped}, ...]}.
 */
import type { Command } from 'commander';

import { readDocuments } from '../data/readers';
import { evaluatePerplexity } from '../eval/perplexity';
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

interface PplFlags {
  model: string;
  data: string[];
  lengths: string;
  rope?: string;
  factor?: string;
  stride: string;
  truncate?: boolean;
  samples?: string;
  seed: string;
  tokenizer?: string;
  textField?: string;
  device?: string;
  label?: string;
  output?: string;
  json?: boolean;
}

/** Registers `ppl` on the CLI program. */
export function registerPplCommand(program: Command): void {
  withRopeOptions(program.command('ppl'))
    .description('perplexity with a sliding window (stride 256) at each evaluation length, as in the LongRoPE paper')
    .requiredOption('--model <dir>', 'Hugging Face model directory')
    .requiredOption('--data <files...>', 'documents: plain text files (one document each), JSONL (a "text" field per line), Parquet, or folders')
    .requiredOption('--lengths <list>', 'evaluation lengths, comma-separated (4k = 4096)')
    .option('--stride <n>', 'tokens between window starts', '256')
    .option('--truncate', 'one window per document: BOS + its first L-1 tokens')
    .option('--samples <n>', 'evaluate n documents drawn with --seed')
    .option('--seed <s>', 'seed of --samples (Python random.Random(seed).sample)', '0')
    .option('--tokenizer <dir>', 'tokenizer directory (default --model)')
    .option('--text-field <key>', 'JSONL key / Parquet column of the text', 'text')
    .option('--device <d>', 'cpu or cuda[:N]')
    .option('--label <name>', 'method label stored in the result (default from --rope)')
    .option('--output <file>', 'also write the result JSON to this file')
    .option('--json', 'print the result JSON')
    .action(async (flags: PplFlags) => {
      const lengths = parseLengths(flags.lengths);
      const stride = parsePositiveInt(flags.stride, '--stride');
      const samples = flags.samples === undefined ? undefined : parsePositiveInt(flags.samples, '--samples');
      const seed = parseNonNegativeInt(flags.seed, '--seed');
      const tokenizer = await loadTokenizer(flags.tokenizer ?? flags.model);
      const docs: Int32Array[] = [];
      for await (const d of readDocuments(flags.data, { textField: flags.textField })) {
        docs.push(Int32Array.from(tokenizer.encode(d.text, { addBos: false })));
      }
      if (docs.length === 0) throw new Error(`Expected at least one document in --data but received none (${flags.data.join(', ')})`);
      const model = await Model.load(flags.model, { device: flags.device });
      try {
        const rope = parseRopeArg(flags.rope, flags.factor, model.config.rope);
        const results = await evaluatePerplexity(model, docs, {
          lengths, stride, truncate: flags.truncate, samples, seed, rope, onProgress: progressLine('ppl windows'),
        });
        const file = {
          kind: 'perplexity',
          method: flags.label ?? ropeLabel(flags.rope, rope),
          model: flags.model,
          data: flags.data,
          rope,
          stride,
          truncate: Boolean(flags.truncate),
          samples: samples ?? null,
          seed,
          results,
        };
        if (flags.output) writeResultFile(flags.output, file);
        if (flags.json) {
          console.log(JSON.stringify(file, null, 2));
          return;
        }
        console.log(`perplexity of ${flags.model} (${file.method}), stride ${stride}${flags.truncate ? ', truncate' : ''}`);
        const rows = [['length', 'ppl', 'tokens', 'windows', 'documents', 'skipped']];
        for (const r of results) {
          rows.push([String(r.length), Number.isNaN(r.ppl) ? '-' : r.ppl.toFixed(4), String(r.tokens), String(r.windows), String(r.documents), String(r.skipped)]);
        }
        console.log(formatTable(rows));
      } finally {
        model.dispose();
      }
    });
}
