/**
 * MMLU from the original release (data/dev/<subject>_dev.csv, data/test/<subject>_test.csv, rows
 * `question,A,B,C,D,answer` without a header), rendered as lm-evaluation-harness's
 * tasks/mmlu/default/_default_template_yaml: description "The following are multiple choice
 * questions (with answers) about <subject with spaces>.\n\n", doc_to_text
 * "<question.strip()>\nA. ..\nB. ..\nC. ..\nD. ..\nAnswer:", choices A-D, few-shot = the first
 * k dev rows (sampler first_n). One subtask per subject.
 */
import fs from 'fs';
import path from 'path';

import { parseCsv, readText } from '../data-files';
import { isDirectory, requireFile, RowReader } from './fields';
import type { McDoc, McSubtask, TaskDefinition } from './types';

const LETTERS = ['A', 'B', 'C', 'D'];

/** Rows of one MMLU CSV file. */
export function readMmluCsv(file: string): McDoc[] {
  return parseCsv(readText(file), file).map(({ value, line }) => {
    const r = new RowReader(file, line);
    if (value.length !== 6) throw r.error('the row', '6 columns (question,A,B,C,D,answer)', `${value.length} column(s)`);
    const [question, a, b, c, d, answer] = value;
    const gold = LETTERS.indexOf(answer.trim());
    if (gold < 0) throw r.error('answer', 'one of A, B, C, D', answer);
    const text = `${question.trim()}\nA. ${a}\nB. ${b}\nC. ${c}\nD. ${d}\nAnswer:`;
    return { text, choices: LETTERS.slice(), gold, source: `${file}:${line}` };
  });
}

/** The harness's MMLU description for a subject file name such as high_school_us_history. */
export function mmluDescription(subject: string): string {
  return `The following are multiple choice questions (with answers) about ${subject.replace(/_/g, ' ')}.\n\n`;
}

function subjectOf(file: string): string {
  return path.basename(file).replace(/_test\.csv$/i, '');
}

/** MMLU, 5-shot, per subject. `path` is the data directory (dev/, test/) or one <subject>_test.csv. */
export const mmlu: TaskDefinition = {
  name: 'mmlu',
  defaultShots: 5,
  metric: 'acc',
  files: 'the MMLU data directory (dev/, test/) or one <subject>_test.csv',
  load(p, { shots, fewshotPath }) {
    let testFiles: string[];
    let devDir: string;
    if (isDirectory(p)) {
      const testDir = path.join(p, 'test');
      if (!isDirectory(testDir)) throw new Error(`${p}: Expected a directory holding test/ (and dev/) but received none`);
      testFiles = fs.readdirSync(testDir).filter((f) => /_test\.csv$/i.test(f)).sort().map((f) => path.join(testDir, f));
      if (testFiles.length === 0) throw new Error(`${testDir}: Expected <subject>_test.csv files but received none`);
      devDir = fewshotPath ?? path.join(p, 'dev');
    } else {
      testFiles = [requireFile(p, 'an MMLU test CSV')];
      devDir = fewshotPath ?? path.join(path.dirname(path.dirname(p)), 'dev');
    }
    const subtasks: McSubtask[] = testFiles.map((file) => {
      const subject = subjectOf(file);
      let fewshot: McDoc[] = [];
      if (shots > 0) {
        const dev = isDirectory(devDir) ? path.join(devDir, `${subject}_dev.csv`) : devDir;
        fewshot = readMmluCsv(requireFile(dev, `the dev split of ${subject} for ${shots}-shot prompts`));
      }
      return { name: subject, description: mmluDescription(subject), docs: readMmluCsv(file), fewshot, sampler: 'first_n' };
    });
    return { name: 'mmlu', metric: 'acc', subtasks };
  },
};
