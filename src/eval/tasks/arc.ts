/**
 * ARC-Challenge from AI2's release (ARC-Challenge-{Train,Dev,Test}.jsonl), rendered as
 * lm-evaluation-harness's tasks/arc/arc_easy.yaml (arc_challenge.yaml includes it):
 * doc_to_text "Question: {{question}}\nAnswer:", choices choices.text, target
 * choices.label.index(answerKey); evaluated on the test split, few-shot from train.
 */
import fs from 'fs';
import path from 'path';

import { parseJsonl, readText } from '../data-files';
import { isDirectory, requireFile, requireTrainingSplit, RowReader } from './fields';
import type { McDoc, TaskDefinition } from './types';

/** Rows of an ARC jsonl file. */
export function readArc(file: string): McDoc[] {
  return parseJsonl(readText(file), file).map(({ value, line }) => {
    const r = new RowReader(file, line);
    const row = r.object(value, 'the row');
    const q = r.object(row.question, 'question');
    const stem = r.string(q, 'stem', 'question.stem');
    const choices = r.array(q, 'choices', 'question.choices', 2).map((c, i) => r.object(c, `question.choices[${i}]`));
    const texts = choices.map((c, i) => r.string(c, 'text', `question.choices[${i}].text`));
    const labels = choices.map((c, i) => r.string(c, 'label', `question.choices[${i}].label`));
    const key = r.string(row, 'answerKey');
    const gold = labels.indexOf(key);
    if (gold < 0) throw r.error('answerKey', `one of the choice labels ${labels.join(', ')}`, key);
    return { text: `Question: ${stem}\nAnswer:`, choices: texts, gold, source: `${file}:${line}` };
  });
}

function locate(p: string, shots: number, fewshotPath?: string): { test: string; train?: string } {
  let test = p;
  let train = fewshotPath;
  if (isDirectory(p)) {
    const files = fs.readdirSync(p);
    const find = (re: RegExp) => files.find((f) => re.test(f));
    const t = find(/-Test\.jsonl$/i);
    if (!t) throw new Error(`${p}: Expected a directory holding ARC-Challenge-Test.jsonl but received none`);
    test = path.join(p, t);
    const tr = find(/-Train\.jsonl$/i);
    if (train === undefined && tr) train = path.join(p, tr);
  } else if (train === undefined) {
    const base = path.basename(p).replace(/test/i, (m) => (m === 'Test' ? 'Train' : m === 'TEST' ? 'TRAIN' : 'train'));
    if (base !== path.basename(p)) train = path.join(path.dirname(p), base);
  }
  if (shots > 0) requireTrainingSplit('arc_challenge', p, train, shots);
  return { test: requireFile(test, 'the ARC test split'), train: shots > 0 ? train : undefined };
}

/** ARC-Challenge, 25-shot. */
export const arcChallenge: TaskDefinition = {
  name: 'arc_challenge',
  defaultShots: 25,
  metric: 'acc',
  files: 'ARC-Challenge-Test.jsonl (train split next to it) or the ARC-Challenge directory',
  load(p, { shots, fewshotPath }) {
    const { test, train } = locate(p, shots, fewshotPath);
    return {
      name: 'arc_challenge',
      metric: 'acc',
      subtasks: [{ name: 'arc_challenge', description: '', docs: readArc(test), fewshot: train ? readArc(train) : [], sampler: 'random' }],
    };
  },
};
