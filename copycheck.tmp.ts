import { CopySynthesizer } from './src/data';
import { Model } from './src/model/model';
import { ByteTokenizer } from './src/model/tokenizer';
(async () => {
  const m = await Model.load(process.argv[2]); const tok = new ByteTokenizer();
  const c = new CopySynthesizer(tok, { length: 256, seed: 4242 });
  let first = 0, second = 0, nf = 0, ns = 0;
  for (let i = 0; i < 30; i++) {
    const s = c.segment(i); if (tok.decode(Array.from(s)).startsWith('The pass')) continue;
    const nll = await m.nll(s); let line = 0;
    for (let p = 1; p < s.length; p++) { const v = nll[p - 1]; if (line % 2 === 0) { first += v; nf++; } else { second += v; ns++; } if (s[p] === 10) line++; }
  }
  console.log('first-copy nll', (first / nf).toFixed(3), 'second-copy nll', (second / ns).toFixed(3));
})();
