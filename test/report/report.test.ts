/** Reports: result files in, Markdown tables and SVG/PNG plots out; bad result files rejected. */
import fs from 'fs';
import os from 'os';
import path from 'path';

import test from 'ava';

import { parseResultFile, passkeyGrid, pplGrid, readResultFile, writeReport } from '../../src/report';
import { lengthLabel, formatPpl } from '../../src/report/tables';

const DIR = path.join(__dirname, '..', 'fixtures', 'eval', 'results');
const files = ['ppl-base.json', 'ppl-longrope.json', 'ppl-yarn.json', 'passkey-longrope.json', 'passkey-yarn.json', 'tasks-longrope.json'].map((f) => path.join(DIR, f));

test('grids merge methods across files; labels and number formats', (t) => {
  const rs = files.map(readResultFile);
  const g = pplGrid(rs);
  t.deepEqual(g.methods, ['base', 'longrope 2048k', 'yarn x32']);
  t.deepEqual(g.columns, [4096, 32768, 131072, 262144]);
  t.true(Number.isNaN(g.cells.get('base')!.get(131072)), 'null ppl reads as NaN');
  t.deepEqual([...passkeyGrid(rs).cells.get('yarn x32')!.values()], [1, 0.8, 0.6, 0]);
  t.is(lengthLabel(4096), '4k');
  t.is(lengthLabel(1000), '1000');
  t.is(formatPpl(15000), '1.50e+4');
  t.is(formatPpl(NaN), '-');
  // A second file with the same method and length is an error, not a silent overwrite.
  const dup = parseResultFile({ kind: 'perplexity', method: 'yarn x32', results: [{ length: 4096, ppl: 1 }] }, 'dup.json');
  t.throws(() => pplGrid([...rs, dup]), { message: 'dup.json: Expected one result per method and column but received a second for "yarn x32" at 4096' });
});

test('result files: kind inferred, method defaults to the file name, bad values named', (t) => {
  t.is(parseResultFile({ results: [{ length: 8, ppl: 2 }] }, '/x/run-a.json').method, 'run-a');
  t.is(parseResultFile({ results: [{ length: 8, accuracy: 1, trials: 2 }] }, 'p.json').kind, 'passkey');
  t.throws(() => parseResultFile({ kind: 'perplexity', results: [{ length: 8, ppl: -1 }] }, 'a.json'), {
    message: 'a.json: Expected a number greater than 0 or null for results[0].ppl but received -1 of type number',
  });
  t.throws(() => parseResultFile({ kind: 'passkey', results: [{ length: 8, accuracy: 2, trials: 1 }] }, 'b.json'), {
    message: 'b.json: Expected a number in [0, 1] for results[0].accuracy but received 2 of type number',
  });
  t.throws(() => parseResultFile({ results: 3 }, 'c.json'), { message: 'c.json: Expected an array for results but received 3 of type number' });
  t.throws(() => parseResultFile({ kind: 'bleu', results: [] }, 'd.json'), { message: 'd.json: Expected "perplexity", "passkey" or "tasks" for kind but received "bleu" of type string' });
  t.throws(() => readResultFile(path.join(DIR, 'missing.json')), { message: /missing\.json: no such result file$/ });
});

test('writeReport: report.md tables, SVG and PNG plots', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-report-'));
  const r = await writeReport(files, out);
  const md = fs.readFileSync(r.markdown, 'utf8');
  t.true(md.includes([
    '| method | 4k | 32k | 128k | 256k |',
    '| --- | ---: | ---: | ---: | ---: |',
    '| base | 3.90 | 1.50e+4 | - | - |',
    '| longrope 2048k | 3.71 | 2.60 | 2.26 | 1.88 |',
    '| yarn x32 | 3.75 | 2.70 | 2.37 | 99.64 |',
  ].join('\n')));
  t.true(md.includes('| longrope 2048k | 100% | 100% | 90% | 90% |\n| yarn x32 | 100% | 80% | 60% | 0% |'));
  t.true(md.includes('| method | arc_challenge (acc_norm) | truthfulqa_mc2 (mc2) |\n| --- | ---: | ---: |\n| longrope 2048k | 0.5190 | 0.3880 |'));
  t.true(md.includes('![Perplexity vs context length](ppl.svg)'));
  t.deepEqual(r.plots.map((p) => path.basename(p)), ['ppl.svg', 'ppl.png', 'passkey.svg', 'passkey.png']);
  const svg = fs.readFileSync(path.join(out, 'ppl.svg'), 'utf8');
  t.true(svg.startsWith('<svg'));
  for (const s of ['Perplexity vs context length', 'longrope 2048k', '32k', 'perplexity (log scale)']) t.true(svg.includes(s), s);
  const png = fs.readFileSync(path.join(out, 'passkey.png'));
  t.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
  t.true(png.readUInt32BE(16) > 800 && png.readUInt32BE(20) > 500, 'width and height at 2x zoom');
  // Passkey only: no perplexity plot.
  const out2 = fs.mkdtempSync(path.join(os.tmpdir(), 'longrope-report-'));
  const r2 = await writeReport([files[3]], out2);
  t.deepEqual(r2.plots.map((p) => path.basename(p)), ['passkey.svg', 'passkey.png']);
  t.false(fs.readFileSync(r2.markdown, 'utf8').includes('## Perplexity'));
  await t.throwsAsync(writeReport([], out2), { message: 'Expected at least one result file but received none' });
});
