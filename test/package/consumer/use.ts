// A user's TypeScript training script, run by ts-node with type checking (not transpile-only):
// the package's declarations must type the API. Usage: ts-node use.ts <model dir>.
import { Model, loadTokenizer, evaluation, type Tokenizer } from 'longrope';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const TEXT: string = require('./text.json');

async function main(): Promise<void> {
  const dir = process.argv[2];
  const model: Model = await Model.load(dir);
  const tokenizer: Tokenizer = await loadTokenizer(dir);
  const doc = Int32Array.from(tokenizer.encode(TEXT.repeat(2), { addBos: false }));
  const results: evaluation.PerplexityResult[] = await evaluation.evaluatePerplexity(model, [doc], { lengths: [128], stride: 64 });
  const ppl: number = results[0].ppl;
  const tokens: number = results[0].tokens;
  // @ts-expect-error: the result is typed, so a field it does not have is an error (were it `any`, this line would fail the check)
  const wrong: number = results[0].perplexity;
  model.dispose();
  console.log(JSON.stringify({ ...results[0], ppl, tokens, wrong }));
}

void main();
