/**
 * The passkey retrieval text (Mohtashami & Jaggi; the prompt of LongRoPE's evaluation/passkey.py),
 * in one place: the evaluation (src/eval/passkey.ts) builds its prompts from it, and the synthetic
 * training data (passkey-synthetic.ts, copy-synthetic.ts) teaches the same wording.
 *
 *   intro \n filler-prefix \n key line \n filler-suffix \n question
 */

/** First line of the prompt. */
export const PASSKEY_INTRO =
  'There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the important information there.';

/** One repetition of the filler; repetitions are joined by a space and cut at any character. */
export const PASSKEY_FILLER = 'The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.';

/** Last line of the prompt; the model continues it with the key. */
export const PASSKEY_QUESTION = 'What is the pass key? The pass key is';

/** The line that hides the key. */
export function passkeyKeyLine(key: string | number): string {
  return `The pass key is ${key}. Remember it. ${key} is the pass key.`;
}

/** The first `chars` characters of the endless filler "F F F ..." (as the reference slices it). */
export function passkeyFiller(chars: number): string {
  const unit = `${PASSKEY_FILLER} `;
  return unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
}

/** The prompt text: intro, filler prefix, key line, filler suffix, question, joined by "\n". */
export function passkeyText(key: string | number, prefixChars: number, suffixChars: number): string {
  return [PASSKEY_INTRO, passkeyFiller(prefixChars), passkeyKeyLine(key), passkeyFiller(suffixChars), PASSKEY_QUESTION].join('\n');
}
