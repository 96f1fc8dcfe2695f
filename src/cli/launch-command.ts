/**
 * `longrope launch --nproc N [--master-port P] -- <longrope command ...>`: runs N processes of a
 * longrope command as one job on this machine (src/dist/launch.ts). On clusters, torchrun or srun
 * set the same variables and run `longrope <command>` directly.
 */
import path from 'path';
import type { Command } from 'commander';

import { checkNumber, describeValue, inputError } from '../common';
import { readDistEnv } from '../dist/env';
import { launch } from '../dist/launch';

/** The commands that run spread over the ranks of a job: sequence parallel (ppl, finetune) or data parallel (search). */
const OVER_RANKS = ['ppl', 'finetune', 'search'];

/**
 * Refuses to run `command` in a multi-process job (WORLD_SIZE > 1) unless it splits its work over
 * the ranks: N copies of any other command would do the same work N times and write the same files.
 */
export function checkLaunchable(command: string): void {
  const worldSize = readDistEnv()?.worldSize ?? 1;
  if (worldSize > 1 && !OVER_RANKS.includes(command)) {
    throw new Error(`Expected a single process for longrope ${command} but received WORLD_SIZE=${worldSize}: only ` +
      `${OVER_RANKS.join(', ')} run spread over the ranks of a job; run it without a launcher`);
  }
}

interface LaunchFlags {
  nproc: string;
  masterAddr?: string;
  masterPort?: string;
}

/** Registers `launch` on the CLI program. */
export function registerLaunchCommand(program: Command): void {
  program
    .command('launch')
    .description('run N local processes of a longrope command as one distributed job (RANK, WORLD_SIZE, ...)')
    .requiredOption('--nproc <n>', 'number of processes (one per GPU on a GPU machine)')
    .option('--master-addr <host>', 'rendezvous address', '127.0.0.1')
    .option('--master-port <port>', 'rendezvous port (default: a free one)')
    .argument('<command...>', 'the longrope command and its arguments, after --')
    .allowUnknownOption(true)
    .action(async (command: string[], flags: LaunchFlags) => {
      const nproc = checkNumber(Number(flags.nproc), 'positiveInteger', '--nproc', 'launch');
      const masterPort = flags.masterPort === undefined ? undefined : Number(flags.masterPort);
      if (masterPort !== undefined && !(Number.isInteger(masterPort) && masterPort >= 1 && masterPort <= 65535)) {
        throw inputError('launch', '--master-port', 'an integer in [1, 65535]', describeValue(flags.masterPort));
      }
      if (command[0] === 'launch') throw inputError('launch', 'command', 'a longrope command other than launch', '"launch"');
      const bin = path.resolve(__dirname, '..', '..', 'bin', 'longrope.js');
      const result = await launch({
        nproc, command: process.execPath, args: [bin, ...command], masterAddr: flags.masterAddr, masterPort,
      });
      if (result.failedRank !== null) {
        const r = result.ranks.find((x) => x.rank === result.failedRank)!;
        const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
        console.error(`longrope launch: rank ${result.failedRank} ${how}; the other ranks were stopped`);
      }
      process.exitCode = result.exitCode;
    });
}
