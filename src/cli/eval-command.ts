/**
 * The skeleton every evaluation command shares (ppl, passkey, bench-tasks; search next):
 *   1. read config.json and validate every flag, `--rope` and `--output` included, so a typo
 *      costs nothing: no tokenizing, no weights loaded;
 *   2. prepare the inputs (read and tokenize data files);
 *   3. load the model, run, write the result file, print it as JSON or as a table.
 * Under `longrope launch` (or torchrun: WORLD_SIZE > 1) a command that declares `distributed`
 * gets the process group in its context; every rank loads the model and runs, rank 0 alone
 * writes the result file and prints. The CLI refuses a launcher for the other commands.
 * A command supplies its own flags and the three steps; the common flags (--model, --rope,
 * --factor, --tokenizer, --device, --label, --output, --json) and the file envelope
 * (`kind`, `method`, `model`, `rope`) are added here.
 */
import type { Command } from 'commander';

import { checkOutputFile } from '../common/files';
import { ProcessGroup, readDistEnv } from '../dist';
import { loadTokenizer, type Tokenizer } from '../data/tokenizer';
import { readModelConfig, type ModelConfig } from '../model/config';
import { Model } from '../model/model';
import type { RopeSpec } from '../rope/types';
import { formatTable, writeResultFile } from './output';
import { parseRopeArg, ropeLabel, withRopeOptions } from './rope-arg';

/** The flags every evaluation command has. */
export interface EvalFlags {
  model: string;
  rope?: string;
  factor?: string;
  tokenizer?: string;
  device?: string;
  label?: string;
  output?: string;
  json?: boolean;
}

/** What a command's steps see once the common flags are validated. */
export interface EvalContext {
  config: ModelConfig;
  rope: RopeSpec;
  /** Loads the tokenizer (of --tokenizer, else --model) once, on first use. */
  tokenizer(): Promise<Tokenizer>;
  /** --json: stdout holds only the result, so progress lines stay off stderr too. */
  quiet: boolean;
  /** The job's process group under a launcher (WORLD_SIZE > 1), for commands that declare `distributed`. */
  group?: ProcessGroup;
}

/** One evaluation command: its flags and its steps. */
export interface EvalCommand<F extends EvalFlags, P, R extends object> {
  name: string;
  description: string;
  /** Result file `kind` (what `longrope report` reads). */
  kind: string;
  /** Whether the command takes --rope/--factor (default true); without, the model's own RoPE. */
  ropeFlags?: boolean;
  /** How the command uses the ranks of a multi-process job (`context.group`); list it in launch-command's OVER_RANKS too. */
  distributed?: 'sequence parallel' | 'data parallel';
  /** Adds the command's own options. */
  options(command: Command): Command;
  /** Parses and checks the command's flags: cheap, no data read. */
  parse(flags: F, context: EvalContext): P;
  /** Reads what the run needs (data files, tokens) before the weights are loaded. */
  prepare?(plan: P, context: EvalContext): Promise<P>;
  /** Runs on the loaded model; returns the result fields of the file. */
  run(model: Model, plan: P, context: EvalContext): Promise<R>;
  /** The table printed without --json: a title line and rows (first row the header). */
  table(result: R, plan: P, file: { method: string; model: string }): { title?: string; rows: string[][] };
}

/** Registers an evaluation command built on the shared skeleton. */
export function registerEvalCommand<F extends EvalFlags, P, R extends object>(program: Command, spec: EvalCommand<F, P, R>): void {
  const base = program.command(spec.name);
  const command = (spec.ropeFlags === false ? base : withRopeOptions(base))
    .description(spec.description)
    .requiredOption('--model <dir>', 'Hugging Face model directory');
  spec.options(command)
    .option('--tokenizer <dir>', 'tokenizer directory (default --model)')
    .option('--device <d>', 'cpu or cuda[:N]')
    .option('--label <name>', 'method label stored in the result (default from --rope)')
    .option('--output <file>', 'also write the result JSON to this file')
    .option('--json', 'print the result JSON')
    .action(async (flags: F) => {
      const config = readModelConfig(flags.model);
      const rope = parseRopeArg(flags.rope, flags.factor, config.rope);
      if (flags.output !== undefined) checkOutputFile(flags.output, '--output');
      let tokenizer: Promise<Tokenizer> | undefined;
      // The CLI refuses a launcher for commands that do not declare `distributed` (src/cli/launch-command.ts).
      const worldSize = spec.distributed ? readDistEnv()?.worldSize ?? 1 : 1;
      const context: EvalContext = { config, rope, quiet: Boolean(flags.json), tokenizer: () => (tokenizer ??= loadTokenizer(flags.tokenizer ?? flags.model)) };
      let plan = spec.parse(flags, context);
      if (spec.prepare) plan = await spec.prepare(plan, context);
      const model = await Model.load(flags.model, { device: flags.device });
      let result: R;
      try {
        // The search's collectives are a few floats (Gloo); the model's ring attention runs where the model is.
        const nccl = spec.distributed === 'sequence parallel' && Boolean(flags.device?.startsWith('cuda'));
        if (worldSize > 1) context.group = await ProcessGroup.init({ backend: nccl ? 'nccl' : 'gloo' });
        result = await spec.run(model, plan, context);
      } finally {
        context.group?.dispose();
        model.dispose();
      }
      // Every rank holds the same result; one file and one printout for the job.
      if ((context.group?.rank ?? 0) !== 0) return;
      const file = { kind: spec.kind, method: flags.label ?? ropeLabel(flags.rope, rope), model: flags.model, rope, ...result };
      if (flags.output !== undefined) writeResultFile(flags.output, file);
      if (flags.json) {
        console.log(JSON.stringify(file, null, 2));
        return;
      }
      const { title, rows } = spec.table(result, plan, file);
      if (title) console.log(title);
      console.log(formatTable(rows));
    });
}
