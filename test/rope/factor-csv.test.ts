/** The reference code's factor files: one per line, or one comma-separated line per layer. */
import test from 'ava';

import { formatFactorCsv, parseFactorCsv, RopeSpecError } from '../../src/rope';

test('one factor per line, numpy %.18e style, blank lines and comments skipped', (t) => {
  const text = '# searched for 128k\n1.000000000000000000e+00\n1.250000000000000000e+00\n\n2.5\n3\n';
  t.deepEqual(parseFactorCsv(text, { headDim: 8 }), [1, 1.25, 2.5, 3]);
  t.deepEqual(parseFactorCsv('1\r\n2\r\n', { headDim: 4 }), [1, 2]);
});

test('per-layer form: layers lines of d/2 comma-separated factors', (t) => {
  const text = '1,1.02,1.5,2\n1, 1.1 ,1.6,2.2\n1,1.2,1.7,2.4\n';
  t.deepEqual(parseFactorCsv(text, { headDim: 8 }), [
    [1, 1.02, 1.5, 2],
    [1, 1.1, 1.6, 2.2],
    [1, 1.2, 1.7, 2.4],
  ]);
  // A single comma-separated line is a one-layer file.
  t.deepEqual(parseFactorCsv('1,2,3,4', { headDim: 8 }), [[1, 2, 3, 4]]);
});

test('format then parse gives back the same doubles, both forms', (t) => {
  const flat = [1, 0.1 + 0.2, 1 / 3, 2.000000000000001, 64.76000213623047, 1e-3, 12345.678, 7];
  const text = formatFactorCsv(flat);
  t.is(text.split('\n').length, flat.length + 1);
  t.true(text.endsWith('\n'));
  t.deepEqual(parseFactorCsv(text, { headDim: 16 }), flat);
  const layers = [flat, flat.map((v) => v * 2)];
  t.deepEqual(parseFactorCsv(formatFactorCsv(layers), { headDim: 16 }), layers);
  t.is(formatFactorCsv([[1, 2], [3, 4]]), '1,2\n3,4\n');
});

test('errors name the line, the expected and the received', (t) => {
  const count = t.throws(() => parseFactorCsv('1\n2\n3\n', { headDim: 8, where: 'factors.csv' }), { instanceOf: RopeSpecError });
  t.is(count?.message, 'factors.csv: Expected 4 lines of one factor each (headDim / 2) for factor file but received 3 lines');

  const nhat = t.throws(() => parseFactorCsv('0\n1\n1\n1\n1\n', { headDim: 8 }));
  t.is(
    nhat?.message,
    'Expected 4 lines of one factor each (headDim / 2) for factor file but received 5 lines (a leading n_hat line, as dim_mono_n files have, must be removed)',
  );

  const bad = t.throws(() => parseFactorCsv('1\n2\nabc\n4\n', { headDim: 8 }));
  t.is(bad?.message, 'Expected a finite number greater than 0 for line 3 but received "abc" of type string');
  t.is((bad as RopeSpecError).field, 'line 3');

  const zero = t.throws(() => parseFactorCsv('1,2,0,4\n', { headDim: 8 }));
  t.is(zero?.message, 'Expected a finite number greater than 0 for line 1, column 3 but received 0 of type number');

  const ragged = t.throws(() => parseFactorCsv('1,2,3,4\n\n1,2,3\n', { headDim: 8 }));
  t.is(ragged?.message, 'Expected 4 comma-separated factors (headDim / 2) per layer line for line 3 but received 3 factors');

  for (const junk of ['0x10', 'Infinity', 'nan', '']) {
    t.throws(() => parseFactorCsv(`1,${junk},3,4`, { headDim: 8 }), { instanceOf: RopeSpecError });
  }
  t.throws(() => parseFactorCsv('1\n', { headDim: 3 }), { message: 'Expected an even integer >= 2 for headDim but received 3 of type number' });
});
