// End to end on the bundled tiny base model (models/tiny-base): the evaluation pipeline sees a
// real language model that retrieves passkeys within its 256-token window and loses both its
// perplexity and its retrieval past it without scaling, the problem LongRoPE addresses.
import test from 'ava';
import path from 'path';

import { evaluatePasskey, evaluatePerplexity } from '../../src/eval';
import { loadTokenizer } from '../../src/data/tokenizer';
import { Model } from '../../src/model/model';

const DIR = path.join(__dirname, '..', '..', 'models', 'tiny-base');
// Held-out text in the style of the evaluation split (Gospel of John 1:1-5, KJV).
const TEXT = 'In the beginning was the Word, and the Word was with God, and the Word was God. The same was in the beginning '
  + 'with God. All things were made by him; and without him was not any thing made that was made. In him was life; and the '
  + 'life was the light of men. And the light shineth in darkness; and the darkness comprehended it not. ';

test('tiny-base: a real language model that needs context extension', async (t) => {
  t.timeout(120_000);
  const model = await Model.load(DIR);
  const tokenizer = await loadTokenizer(DIR);
  t.is(tokenizer.vocabSize, 258);
  const doc = Int32Array.from(tokenizer.encode(TEXT.repeat(5), { addBos: false }));
  const own = await evaluatePerplexity(model, [doc], { lengths: [256], stride: 256 });
  const rope = model.config.rope;
  const plain = await evaluatePerplexity(model, [doc], { lengths: [1024], truncate: true });
  const yarn = await evaluatePerplexity(model, [doc], { lengths: [1024], truncate: true, rope: { ...rope, method: 'yarn', length: 1024 } });
  t.log(`per-byte ppl: 256 ${own[0].ppl.toFixed(2)}; 1024 unscaled ${plain[0].ppl.toFixed(1)}; 1024 yarn x4 ${yarn[0].ppl.toFixed(2)}`);
  t.true(own[0].ppl < 8, 'it models English at its own window (a uniform byte model would score 258)');
  t.true(plain[0].ppl > 2.5 * own[0].ppl, 'without scaling it degrades beyond 256');
  t.true(yarn[0].ppl < 2 * own[0].ppl, 'YaRN x4 keeps it working at 1024 without fine-tuning');
  model.dispose();
});

test('tiny-base: retrieves a passkey at its own window (the evaluation prompt, 256 tokens), not at 1024 unscaled', async (t) => {
  t.timeout(120_000);
  const model = await Model.load(DIR);
  const tokenizer = await loadTokenizer(DIR);
  const [own, far] = await evaluatePasskey(model, tokenizer, { lengths: [256, 1024], trials: 10, seed: 7 });
  t.log(`passkey accuracy: 256 ${own.accuracy}, 1024 unscaled ${far.accuracy}`);
  t.true(own.accuracy >= 0.9, own.details.map((d) => `${d.key} -> ${JSON.stringify(d.answer)}`).join(', '));
  t.true(far.accuracy <= 0.2);
  model.dispose();
});
