// A user's ES module: named imports from 'longrope' (a CommonJS package, through Node's interop).
// Usage: node use.mjs <model dir>; prints the result and any export that `import` cannot see.
import { createRequire } from 'module';
import * as longrope from 'longrope';
import { Model, loadTokenizer, evaluation } from 'longrope';

const require = createRequire(import.meta.url);
const TEXT = require('./text.json');
const missing = Object.keys(require('longrope')).filter((name) => !(name in longrope));

const dir = process.argv[2];
const model = await Model.load(dir);
const tokenizer = await loadTokenizer(dir);
const doc = Int32Array.from(tokenizer.encode(TEXT.repeat(2), { addBos: false }));
const [result] = await evaluation.evaluatePerplexity(model, [doc], { lengths: [128], stride: 64 });
model.dispose();
console.log(JSON.stringify({ ...result, missing }));
