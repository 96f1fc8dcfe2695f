/**
 * The `longrope` command line. Each command lives in src/cli/; this file only wires them up and
 * turns any error into one line on stderr and exit code 1 (no stack traces for user mistakes).
 * Argument parsing: commander (well kept, typed, generates --help).
 */
import { Command } from 'commander';

import { registerEstimateCommand } from './cli/estimate-command';
import { registerBenchTasksCommand } from './cli/bench-tasks-command';
import { registerFinetuneCommand } from './cli/finetune-command';
import { checkLaunchable, registerLaunchCommand } from './cli/launch-command';
import { registerPasskeyCommand } from './cli/passkey-command';
import { registerPplCommand } from './cli/ppl-command';
import { registerReportCommand } from './cli/report-command';
import { registerExportCommand } from './cli/export-command';
import { registerExtendCommand } from './cli/extend-command';
import { registerRopeCommand } from './cli/rope-command';
import { registerSearchCommand } from './cli/search-command';
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
  registerSearchCommand(program);
  registerExportCommand(program);
  registerExtendCommand(program);
  registerReportCommand(program);
  registerLaunchCommand(program);
  program
    .command('info')
    .description('print what the native addon offers (libtorch version, CUDA, threads)')
    .action(() => console.log(JSON.stringify(runtimeInfo(), null, 2)));
  // Under a launcher (or torchrun), before any flag is read or file written.
  program.hook('preAction', (_, action) => checkLaunchable(action.name()));
  return program;
}

/** What a failed file operation means, by errno code. */
const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
};

/**
 * One line for the user: our errors as they are; a raw system error as "path: what it means
 * (CODE)"; V8's string limit as what it means here (a file too large to read as one string).
 */
function userMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const sys = e as NodeJS.ErrnoException;
  if (sys.code && SYSTEM_ERRORS[sys.code] && sys.syscall) {
    return `${sys.path ?? sys.syscall}: ${SYSTEM_ERRORS[sys.code]} (${sys.code} in ${sys.syscall})`;
  }
  if (e instanceof RangeError && /Invalid string length|Cannot create a string longer/.test(e.message)) {
    return 'a file or result is too large to hold as one string (over ~512 MB of text): split the input into smaller files';
  }
  return e.message;
}

/** Runs the CLI with the given arguments (without `node` and the script). */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
  } catch (e) {
    console.error(`longrope: ${userMessage(e)}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void runCli(process.argv.slice(2));
