/**
 * HellaSwag from the original release (hellaswag_{train,val}.jsonl), rendered as
 * lm-evaluation-harness's tasks/hellaswag/hellaswag.yaml with utils.py's process_docs:
 * query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), choices =
 * preprocess(ending); evaluated on validation, few-shot from train.
 */
import fs from 'fs';
import path from 'path';

import { parseJsonl, readText } from '../data-files';
import { isDirectory, requireFile, requireTrainingSplit, RowReader } from './fields';
import type { McDoc, TaskDefinition } from './types';

/** Python's str.capitalize(): first character upper-cased, the rest lower-cased. */
export function pyCapitalize(s: string): string {
  const chars = [...s];
  if (chars.length === 0) return s;
  return chars[0].toUpperCase() + chars.slice(1).join('').toLowerCase();
}

/** The harness's `preprocess`: strip, " [title]" -> ". ", drop "[...]", "  " -> " ". */
export function hellaswagPreprocess(text: string): string {
  let t = text.trim();
  t = t.split(' [title]').join('. ');
  t = t.replace(/\[.*?\]/g, '');
  return t.split('  ').join(' ');
}

/** Rows of a HellaSwag jsonl file. */
export function readHellaswag(file: string): McDoc[] {
  return parseJsonl(readText(file), file).map(({ value, line }) => {
    const r = new RowReader(file, line);
    const row = r.object(value, 'the row');
    const ctxA = r.string(row, 'ctx_a');
    const ctxB = r.string(row, 'ctx_b');
    const activity = r.string(row, 'activity_label');
    const endings = r.array(row, 'endings', 'endings', 2).map((e, i) => {
      if (typeof e !== 'string') throw r.error(`endings[${i}]`, 'a string', e);
      return e;
    });
    const gold = r.index(row, 'label', endings.length);
    return {
      text: hellaswagPreprocess(`${activity}: ${ctxA} ${pyCapitalize(ctxB)}`),
      choices: endings.map(hellaswagPreprocess),
      gold,
      source: `${file}:${line}`,
    };
  });
}

function locate(p: string, shots: number, fewshotPath?: string): { val: string; train?: string } {
  let val = p;
  let train = fewshotPath;
  if (isDirectory(p)) {
    val = path.join(p, 'hellaswag_val.jsonl');
    if (train === undefined) train = path.join(p, 'hellaswag_train.jsonl');
  } else if (train === undefined) {
    const base = path.basename(p).replace(/val(idation)?/i, 'train');
    if (base !== path.basename(p)) train = path.join(path.dirname(p), base);
  }
  if (shots > 0) requireTrainingSplit('hellaswag', p, train, shots);
  return { val: requireFile(val, 'the HellaSwag validation split'), train: shots > 0 && train && fs.existsSync(train) ? train : undefined };
}

/** HellaSwag, 10-shot. */
export const hellaswag: TaskDefinition = {
  name: 'hellaswag',
  defaultShots: 10,
  metric: 'acc',
  files: 'hellaswag_val.jsonl (hellaswag_train.jsonl next to it) or their directory',
  load(p, { shots, fewshotPath }) {
    const { val, train } = locate(p, shots, fewshotPath);
    return {
      name: 'hellaswag',
      metric: 'acc',
      subtasks: [{ name: 'hellaswag', description: '', docs: readHellaswag(val), fewshot: train ? readHellaswag(train) : [], sampler: 'random' }],
    };
  },
};
