/**
 * `longrope ppl`: perplexity by the paper's sliding-window protocol at several lengths.
 * `--json` prints the result file (also written with `--output FILE`) that `longrope report`
 * reads: {"kind": "perplexity", "method": label, ..., "results": [{length, ppl, tokens,
 * windows, documents, skipped}, ...]}. Under `longrope launch --nproc N` every window runs
 * sequence-parallel over the N ranks (ring attention); rank 0 writes and prints the result.
 */
import type { Command } from 'commander';

import { encodeDocument } from '../data/chunking';
import { readDocuments } from '../data/readers';
import { evaluatePerplexity } from '../eval/perplexity';
import { registerEvalCommand, type EvalFlags } from './eval-command';
import { progressLine } from './output';
import { parseLengths, parseNonNegativeInt, parsePositiveInt } from './rope-arg';


interface PplFlags extends EvalFlags {
  data: string[];
  lengths: string;
  stride: string;
  truncate?: boolean;
  samples?: string;
  seed: string;
  textField?: string;
}

interface PplPlan {
  data: string[];
  textField?: string;
  lengths: number[];
  stride: number;
  truncate: boolean;
  samples?: number;
  seed: number;
  docs: Int32Array[];
}

/** Registers `ppl` on the CLI program. */
export function registerPplCommand(program: Command): void {
  registerEvalCommand(program, {
    name: 'ppl',
    kind: 'perplexity',
    distributed: 'sequence parallel',
    description: 'perplexity with a sliding window (stride 256) at each evaluation length, as in the LongRoPE paper',
    options: (c) => c
      .requiredOption('--data <files...>', 'documents: plain text files (one document each), JSONL (a "text" field per line), Parquet, or folders')
      .requiredOption('--lengths <list>', 'evaluation lengths, comma-separated (4k = 4096)')
      .option('--stride <n>', 'tokens between window starts', '256')
      .option('--truncate', 'one window per document: BOS + its first L-1 tokens')
      .option('--samples <n>', 'evaluate n documents drawn with --seed')
      .option('--seed <s>', 'seed of --samples (Python random.Random(seed).sample)', '0')
      .option('--text-field <key>', 'JSONL key / Parquet column of the text', 'text'),
    parse: (f: PplFlags): PplPlan => ({
      data: f.data,
      textField: f.textField,
      lengths: parseLengths(f.lengths),
      stride: parsePositiveInt(f.stride, '--stride'),
      truncate: Boolean(f.truncate),
      samples: f.samples === undefined ? undefined : parsePositiveInt(f.samples, '--samples'),
      seed: parseNonNegativeInt(f.seed, '--seed'),
      docs: [],
    }),
    async prepare(plan, context) {
      const tokenizer = await context.tokenizer();
      const docs: Int32Array[] = [];
      for await (const d of readDocuments(plan.data, { textField: plan.textField })) {
        docs.push(encodeDocument(tokenizer, d));
      }
      if (docs.length === 0) throw new Error(`Expected at least one document in --data but received none (${plan.data.join(', ')})`);
      return { ...plan, docs };
    },
    async run(model, plan, context) {
      const results = await evaluatePerplexity(model, plan.docs, {
        lengths: plan.lengths, stride: plan.stride, truncate: plan.truncate, samples: plan.samples, seed: plan.seed,
        rope: context.rope, sequenceParallel: context.group,
        onProgress: (context.group?.rank ?? 0) === 0 ? progressLine('ppl windows') : undefined,
      });
      const empty = results.filter((r) => r.windows === 0);
      for (const r of empty) if ((context.group?.rank ?? 0) === 0) console.error(`longrope: warning: no document has enough tokens for length ${r.length} (${r.skipped} skipped); no perplexity there`);
      if (empty.length === results.length) {
        throw new Error(`Expected a document of at least ${Math.min(...plan.lengths)} tokens in --data but received none (the longest has ${Math.max(...plan.docs.map((d) => d.length))})`);
      }
      const ranks = context.group?.worldSize ?? 1;
      return { data: plan.data, stride: plan.stride, truncate: plan.truncate, samples: plan.samples ?? null, seed: plan.seed, ranks, results };
    },
    table: (r, plan, file) => ({
      title: `perplexity of ${file.model} (${file.method}), stride ${plan.stride}${plan.truncate ? ', truncate' : ''}` +
        (r.ranks > 1 ? `, sequence-parallel over ${r.ranks} processes` : ''),
      rows: [['length', 'ppl', 'tokens', 'windows', 'documents', 'skipped'], ...r.results.map((x) => [
        String(x.length), Number.isNaN(x.ppl) ? '-' : x.ppl.toFixed(4), String(x.tokens), String(x.windows), String(x.documents), String(x.skipped),
      ])],
    }),
  });
}
