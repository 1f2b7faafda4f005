import { ConvergeError } from '@converge/conflict';
import type { Cursor } from './cursor.js';
import type { ChangePhase } from './frames/changes.js';
import { utf8ByteLength } from './utf8-length.js';

/** Everything of a `changes` frame but its docs. */
export interface ChangesEnvelope {
  readonly collection: string;
  readonly phase: ChangePhase;
  readonly watermark: number;
  readonly cursor: Cursor;
  readonly done?: true;
  readonly resync?: true;
}

/** One key as a relay stores it: the seq of its last change and its `storedStateText`. */
export interface StoredChange {
  readonly key: string;
  readonly seq: number;
  readonly stored: string;
}

/** A frame's text and its exact size in UTF-8 bytes (what the WebSocket carries; what credit counts). */
export interface FrameText {
  readonly text: string;
  readonly bytes: number;
}

const corrupt = (stored: string): ConvergeError =>
  new ConvergeError('internal', `stored state text is not storedStateText output: ${JSON.stringify(stored.slice(0, 80))}`);

/**
 * Builds the text of one protocol-2 `changes` frame, doc by doc, in the order they are added
 * (a relay adds them in seq order). Each doc is one array in `docs`:
 *
 * ```
 * simple   [key, seq − previous seq, slot, wall − previous wall, counter?, replica index?, logical?]
 *          trailing fields at their default are left out: counter 1, replica index 0, and the
 *          logical an HLC stamps next (the previous simple doc's + 1 when the wall step is 0, else 0)
 * general  [key, seq − previous seq, {"r":[frame replica index,…],"v":…,"d":…,"s":…}]
 * ```
 * "previous" is the doc before it in the frame (0 for the first); only simple docs move the
 * wall and the logical. Replica ids are written once, in the frame's `replicas`. A burst of
 * writes by one replica (consecutive seqs, one millisecond after another or several in one)
 * thus costs a key, a seq step, the value and a wall step of a digit or two per doc.
 *
 * `addStored` takes a relay's stored text and does string work only: it splits the simple
 * form's first four fields (or the general form's replica table), maps replica ids to indices
 * and subtracts; the value slot is copied as it is, never parsed. The text is exactly what
 * `encodeFrame` writes for the same docs (a property test holds the two to it).
 *
 * @example
 * ```ts
 * const builder = new ChangesFrameBuilder();
 * builder.addStored('todo-1', 7, '["q3JbX0f2LkH8aPzR",1,1767225600000,0,{"title":"milk"}]');
 * builder.addStored('todo-2', 8, '["q3JbX0f2LkH8aPzR",1,1767225600004,0,{"title":"eggs"}]');
 * const cursor = { lineage: 'L9f3kQ2mZxT0', seq: 8, hash: 'u2V9cYg1pE0Jm8QxZ4rKsA', mac: 'Xb7Tq0Lw9ZcN3fHy6GmR1vEo' };
 * const { text } = builder.finish({ collection: 'todos', phase: 'live', watermark: 8, cursor });
 * JSON.parse(text).docs; // → [['todo-1', 7, { title: 'milk' }, 1767225600000], ['todo-2', 1, { title: 'eggs' }, 4]]
 * ```
 */
export class ChangesFrameBuilder {
  readonly #replicas: string[] = [];
  readonly #index = new Map<string, number>();
  readonly #docs: string[] = [];
  #seq = 0;
  #wall = 0;
  #logical = 0;

  /** Docs added so far. */
  get count(): number {
    return this.#docs.length;
  }

  #ref(replica: string): number {
    let i = this.#index.get(replica);
    if (i === undefined) {
      i = this.#replicas.push(replica) - 1;
      this.#index.set(replica, i);
    }
    return i;
  }

  #push(record: string): void {
    this.#docs.push(record);
  }

  /** A simple doc's wall step and trailing fields, defaults left out; moves the running wall and logical. */
  #stamp(wall: number, logical: number, counter: string, replica: string): string {
    const step = wall - this.#wall;
    const predicted = step === 0 ? this.#logical + 1 : 0;
    this.#wall = wall;
    this.#logical = logical;
    const index = this.#ref(replica);
    if (logical !== predicted) return `${step},${counter},${index},${logical}`;
    if (index !== 0) return `${step},${counter},${index}`;
    return counter === '1' ? `${step}` : `${step},${counter}`;
  }

  #head(key: string, seq: number): string {
    const head = `[${JSON.stringify(key)},${seq - this.#seq},`;
    this.#seq = seq;
    return head;
  }

  /** Adds a key from the text `storedStateText` wrote, without parsing its value. Throws `internal` on text it did not write. */
  addStored(key: string, seq: number, stored: string): void {
    if (stored.charCodeAt(0) === 0x5b /* [ */) {
      // ["<replica>",counter,wall,logical,slot]: ids, counters and walls hold no quote or comma.
      const quote = stored.indexOf('"', 2);
      const c2 = stored.indexOf(',', quote + 2);
      const c3 = stored.indexOf(',', c2 + 1);
      const c4 = stored.indexOf(',', c3 + 1);
      if (stored.charCodeAt(1) !== 0x22 || quote < 3 || stored.charCodeAt(quote + 1) !== 0x2c || c2 < 0 || c3 < 0 || c4 < 0) throw corrupt(stored);
      if (stored.charCodeAt(stored.length - 1) !== 0x5d) throw corrupt(stored);
      const head = this.#head(key, seq);
      const stamp = this.#stamp(Number(stored.slice(c2 + 1, c3)), Number(stored.slice(c3 + 1, c4)), stored.slice(quote + 2, c2), stored.slice(2, quote));
      this.#push(`${head}${stored.slice(c4 + 1, -1)},${stamp}]`);
      return;
    }
    // {"r":["<replica>",…],…}: only the table changes, to frame indices.
    if (!stored.startsWith('{"r":[')) throw corrupt(stored);
    const end = stored.indexOf(']', 6);
    if (end < 0) throw corrupt(stored);
    let refs = '';
    if (end > 6) {
      for (const quoted of stored.slice(6, end).split(',')) {
        if (quoted.length < 3 || quoted.charCodeAt(0) !== 0x22) throw corrupt(stored);
        refs += `${refs === '' ? '' : ','}${this.#ref(quoted.slice(1, -1))}`;
      }
    }
    this.#push(`${this.#head(key, seq)}{"r":[${refs}${stored.slice(end)}]`);
  }

  /** The frame's text and its exact size in UTF-8 bytes. The builder is spent afterwards. */
  finish(envelope: ChangesEnvelope): FrameText {
    const text = this.text(envelope);
    return { text, bytes: utf8ByteLength(text) };
  }

  /** The frame's text alone. The builder is spent afterwards. */
  text(envelope: ChangesEnvelope): string {
    const { collection, phase, watermark, cursor, done, resync } = envelope;
    const head = `{"type":"changes","collection":${JSON.stringify(collection)},"phase":"${phase}","replicas":${JSON.stringify(this.#replicas)},"docs":[`;
    const cursorText = JSON.stringify({ lineage: cursor.lineage, seq: cursor.seq, hash: cursor.hash, mac: cursor.mac });
    const tail = `],"watermark":${watermark},"cursor":${cursorText}${done === true ? ',"done":true' : ''}${resync === true ? ',"resync":true' : ''}}`;
    return head + this.#docs.join(',') + tail;
  }
}

/**
 * A whole `changes` frame from stored texts (see `ChangesFrameBuilder`), with its exact size.
 *
 * @example
 * ```ts
 * const cursor = { lineage: 'L9f3kQ2mZxT0', seq: 3, hash: 'u2V9cYg1pE0Jm8QxZ4rKsA', mac: 'Xb7Tq0Lw9ZcN3fHy6GmR1vEo' };
 * const docs = [{ key: 'todo-1', seq: 3, stored: '["q3JbX0f2LkH8aPzR",2,1767225600000,0,"milk"]' }];
 * const { text, bytes } = changesFrameText({ collection: 'todos', phase: 'catchup', docs, watermark: 3, cursor, done: true });
 * const frame = decodeFrame(text);
 * frame.ok && frame.value.type === 'changes' && frame.value.docs[0].state.siblings[0].value; // → { json: 'milk' }
 * bytes === text.length; // → true
 * ```
 */
export function changesFrameText(input: ChangesEnvelope & { readonly docs: readonly StoredChange[] }): FrameText {
  const builder = new ChangesFrameBuilder();
  for (const doc of input.docs) builder.addStored(doc.key, doc.seq, doc.stored);
  return builder.finish(input);
}
