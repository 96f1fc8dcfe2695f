/** The pretraining stream: corpus segments with ~15% passkey sequences, resumable with one saved object. */
import test from 'ava';

import { DataError, pretrainingStream, type PretrainingPosition } from '../../src/data';
import { ByteTokenizer } from '../../src/data/tokenizer';

const tokenizer = new ByteTokenizer();
const text = (x: Int32Array): string => tokenizer.decode(Array.from(x));

test('a killed pretraining run resumes with exactly the next segment', async (t) => {
  const ref = await pretrainingStream({ tokenizer, length: 256, seed: 42 });
  const expected = Array.from({ length: 400 }, () => text(ref.next()));
  t.true(expected.every((s) => Buffer.byteLength(s) <= 254));
  const passkeys = expected.filter((s) => /pass ?key|secret number|The key was/.test(s)).length;
  t.true(passkeys > 30 && passkeys < 100, `${passkeys} passkey sequences of 400`);

  const run = await pretrainingStream({ tokenizer, length: 256, seed: 42 });
  const before = Array.from({ length: 250 }, () => text(run.next()));
  const saved = JSON.parse(JSON.stringify(run.position())) as PretrainingPosition;
  // The resumed run is given no seed: the position carries it.
  const resumed = await pretrainingStream({ tokenizer, length: 256, position: saved });
  t.deepEqual([...before, ...Array.from({ length: 150 }, () => text(resumed.next()))], expected);
  await t.throwsAsync(pretrainingStream({ tokenizer, length: 256, position: { step: 1 } as PretrainingPosition }), {
    instanceOf: DataError, message: 'Expected an object {step, base: {epoch, index, seed}} for position but received an object',
  });
});
