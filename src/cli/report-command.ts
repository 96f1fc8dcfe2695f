/**
 * `longrope report RESULTS.json... --out DIR`: report.md with perplexity and passkey tables and
 * plots (SVG and PNG), and benchmark metrics, from the commands' result files.
 */
import type { Command } from 'commander';

import { checkOutputPath } from '../common/files';
import { writeReport } from '../report/report';

/** Registers `report` on the CLI program. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write DIR/report.md with tables and plots (SVG, PNG) from ppl / passkey / bench-tasks result files')
    .argument('<results...>', 'result JSON files (from --json or --output)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--json', 'print {"markdown": path, "plots": [paths]}')
    .action(async (results: string[], flags: { out: string; json?: boolean }) => {
      checkOutputPath(flags.out, '--out', 'dir');
      const out = await writeReport(results, flags.out);
      if (flags.json) console.log(JSON.stringify(out, null, 2));
      else console.log([`wrote ${out.markdown}`, ...out.plots.map((p) => `wrote ${p}`)].join('\n'));
    });
}
