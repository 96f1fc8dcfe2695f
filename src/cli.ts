/**
 * The `longrope` command line. Each command lives in src/cli/; this file only wires them up and
 * turns any error into one line on stderr and exit code 1 (no stack traces for user mistakes).
 * Argument parsing: commander (well kept, typed, generates --help).
 */
import { Command } from 'commander';

import { registerEstimateCommand } from './cli/estimate-command';
import { registerBenchTasksCommand } from './cli/bench-tasks-command';
import { registerFinetuneCommand } from './cli/finetune-command';
import { registerLaunchCommand } from './cli/launch-command';
import { registerPasskeyCommand } from './cli/passkey-command';
import { registerPplCommand } from './cli/ppl-command';
import { registerReportCommand } from './cli/report-command';
import { registerRopeCommand } from './cli/rope-command';
import { runtimeInfo } from './model/runtime';

function buildProgram(): Command {
  const program = new Command('longrope')
    .description('LongRoPE context-window extension for LLaMA/Mistral models')
    .showHelpAfterError();
  registerRopeCommand(program);
  registerEstimateCommand(program);
  registerFinetuneCommand(program);
  registerPplCommand(program);
  registerPasskeyCommand(program);
  registerBenchTasksCommand(program);
  registerReportCommand(program);
  registerLaunchCommand(program);
  program
    .command('info')
    .description('print what the native addon offers (libtorch version, CUDA, threads)')
    .action(() => console.log(JSON.stringify(runtimeInfo(), null, 2)));
  return program;
}

/** Runs the CLI with the given arguments (without `node` and the script). */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
  } catch (e) {
    console.error(`longrope: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void runCli(process.argv.slice(2));
