// A user's CommonJS script: require('longrope'), load a model, compute a perplexity.
// Usage: node use.cjs <model dir>; prints the result as JSON.
'use strict';
const { Model, loadTokenizer, evaluation } = require('longrope');
const TEXT = require('./text.json');

async function main() {
  const dir = process.argv[2];
  const model = await Model.load(dir);
  const tokenizer = await loadTokenizer(dir);
  const doc = Int32Array.from(tokenizer.encode(TEXT.repeat(2), { addBos: false }));
  const [result] = await evaluation.evaluatePerplexity(model, [doc], { lengths: [128], stride: 64 });
  model.dispose();
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
