/**
 * The King James Bible as `bible -f` (Debian package bible-kjv) prints it: one verse per line,
 * each after a label like `Ge1:1 ` or `1Sm3:10 ` (book abbreviation, chapter, verse), no headers.
 * We keep one document per book, labels stripped, verses joined by a space and chapters by a
 * newline (the text has no paragraphs of its own; a chapter break is the nearest thing).
 */
import { DataError, type Document } from './types';

/** A book of the KJV: `abbrev` as `bible` labels it, canonical order. */
export interface KjvBook {
  abbrev: string;
  name: string;
  testament: 'old' | 'new';
}

const OLD = 'Ge Genesis|Exo Exodus|Lev Leviticus|Num Numbers|Deu Deuteronomy|Josh Joshua|Jdgs Judges|Ruth Ruth|'
  + '1Sm 1 Samuel|2Sm 2 Samuel|1Ki 1 Kings|2Ki 2 Kings|1Chr 1 Chronicles|2Chr 2 Chronicles|Ezra Ezra|'
  + 'Neh Nehemiah|Est Esther|Job Job|Psa Psalms|Prv Proverbs|Eccl Ecclesiastes|SSol Song of Solomon|'
  + 'Isa Isaiah|Jer Jeremiah|Lam Lamentations|Eze Ezekiel|Dan Daniel|Hos Hosea|Joel Joel|Amos Amos|'
  + 'Obad Obadiah|Jonah Jonah|Mic Micah|Nahum Nahum|Hab Habakkuk|Zep Zephaniah|Hag Haggai|Zec Zechariah|Mal Malachi';
const NEW = 'Mat Matthew|Mark Mark|Luke Luke|John John|Acts Acts|Rom Romans|1Cor 1 Corinthians|2Cor 2 Corinthians|'
  + 'Gal Galatians|Eph Ephesians|Phi Philippians|Col Colossians|1Th 1 Thessalonians|2Th 2 Thessalonians|'
  + '1Tim 1 Timothy|2Tim 2 Timothy|Titus Titus|Phmn Philemon|Heb Hebrews|Jas James|1Pet 1 Peter|2Pet 2 Peter|'
  + '1Jn 1 John|2Jn 2 John|3Jn 3 John|Jude Jude|Rev Revelation';

const books = (list: string, testament: 'old' | 'new'): KjvBook[] => list.split('|').map((entry) => {
  const space = entry.indexOf(' ');
  return { abbrev: entry.slice(0, space), name: entry.slice(space + 1), testament };
});

/** The 66 books in canonical order: Genesis..Malachi (39, Old Testament), Matthew..Revelation (27). */
export const KJV_BOOKS: readonly KjvBook[] = Object.freeze([...books(OLD, 'old'), ...books(NEW, 'new')]);

/** The document id of a book: `kjv/01-Genesis` ... `kjv/66-Revelation` (sorts in canonical order). */
export function kjvId(book: KjvBook): string {
  const n = KJV_BOOKS.indexOf(book) + 1;
  return `kjv/${String(n).padStart(2, '0')}-${book.name.replace(/ /g, '-')}`;
}

const VERSE = /^(\d?[A-Za-z]+)(\d+):(\d+) (.*)$/;

/**
 * Parses `bible -f` output into one document per book, in canonical order. `requireAll`
 * (default true) insists on all 66 books; false accepts a prefix (Genesis..some book).
 * @throws {DataError} on a line that is not a verse, or books out of order, missing or unknown:
 * a different `bible` build would silently shift the split otherwise.
 */
export function parseKjv(output: string, opts: { requireAll?: boolean } = {}): Document[] {
  const byAbbrev = new Map(KJV_BOOKS.map((b) => [b.abbrev, b]));
  const docs: Document[] = [];
  let book: KjvBook | undefined;
  let chapters: string[][] = [];
  let chapter = '';
  const flush = (): void => {
    if (book) docs.push({ id: kjvId(book), source: 'kjv', text: chapters.map((c) => c.join(' ')).join('\n') });
  };
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    const m = VERSE.exec(line);
    if (!m) throw new DataError(`bible output line ${i + 1}: Expected a verse like "Ge1:1 text" for line ${i + 1} but received ${JSON.stringify(line.slice(0, 40))}`, 'bible output');
    const [, abbrev, chap, , text] = m;
    if (book?.abbrev !== abbrev) {
      const next = byAbbrev.get(abbrev);
      const expected = KJV_BOOKS[docs.length + (book ? 1 : 0)];
      if (!next || next !== expected) {
        throw new DataError(`bible output line ${i + 1}: Expected book ${expected?.abbrev ?? '(end)'} for line ${i + 1} but received ${JSON.stringify(abbrev)}`, 'bible output');
      }
      flush();
      book = next;
      chapters = [];
      chapter = '';
    }
    if (chap !== chapter) {
      chapters.push([]);
      chapter = chap;
    }
    chapters[chapters.length - 1].push(text.trim());
  }
  flush();
  if ((opts.requireAll ?? true) && docs.length !== KJV_BOOKS.length) {
    throw new DataError(`bible output: Expected ${KJV_BOOKS.length} books for books but received ${docs.length}`, 'bible output');
  }
  return docs;
}
