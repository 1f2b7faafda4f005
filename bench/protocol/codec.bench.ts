// @converge/protocol codec: full change records (DVV metadata + a cart value with a Date)
// encoded + decoded per second, measured side by side in one run against plain JSON of the
// same frames (which loses the Date) and superjson over whole frames (the reference).
import { encodeDocState, encodeDocStateBatch, nextDot, replicaIdFromBytes, vectorFrom, writeDoc, type DocState, type ReplicaId } from '@converge/conflict';
import {
  decodeFrame,
  decodeValue,
  encodeFrame,
  encodeValue,
  jsonShapeProblem,
  MAX_FRAME_DEPTH,
  validateFrame,
  type ChangesFrame,
  type Frame,
  type PushFrame,
  type WireState,
} from '@converge/protocol';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import superjson from 'superjson';

/** Records per measured pass, and per frame (a push or a catch-up batch of 100 keys). */
export const RECORDS = 100_000;
const PER_FRAME = 100;
const ROUNDS = Number(process.env['BENCH_CODEC_ROUNDS'] ?? 5);

interface Cart {
  items: Record<string, { qty: number; price: number; name: string }>;
  currency: string;
  updatedAt: Date;
}

function cart(i: number): Cart {
  return {
    items: {
      [`sku-${1000 + (i % 97)}`]: { qty: 1 + (i % 3), price: 3.49, name: 'Oat milk 1L' },
      'sku-2210': { qty: 2, price: 0.99, name: 'Bananas' },
      'sku-0007': { qty: 1, price: 12.5, name: 'Coffee beans 500g' },
    },
    currency: 'EUR',
    updatedAt: new Date(1_767_225_600_000 + i),
  };
}

/** A household: three devices (96-bit replica ids) writing the same carts. */
const team: ReplicaId[] = Array.from({ length: 3 }, () => replicaIdFromBytes(randomBytes(12)));

/** One write of device `i % 3` on top of what all three had written: the delta it pushes. */
function record(i: number): DocState<Cart> {
  const readContext = { vv: vectorFrom(team.map((r, j) => [r, 10 + ((i + j) % 7)] as const)), cloud: [] };
  const base: DocState<Cart> = { context: readContext, siblings: [] };
  const writer = team[i % team.length]!;
  const dot = nextDot(base, writer);
  return writeDoc(base, { dot, hlc: { wall: 1_767_225_600_000 + i, logical: i % 3, replica: writer }, readContext, value: cart(i) }).delta;
}

const withEncodedValues = (s: DocState<Cart>): WireState => ({
  context: s.context,
  siblings: s.siblings.map((x) => (x.deleted === true ? x : { ...x, value: encodeValue(x.value) })),
});

const cursor = { lineage: 'L9f3kQ2mZxT0', seq: 0, hash: 'u2V9cYg1pE0Jm8QxZ4rKsA', mac: 'Xb7Tq0Lw9ZcN3fHy6GmR1vEo' };

export interface Workload {
  /** Frames as their sender holds them, values already encoded once by their writer. */
  readonly frames: Frame[];
  /** The same frames with raw values (the cart with its Date): the writer's input. */
  readonly raw: DocState<Cart>[][];
  /** The frames' JSON shape with raw values: what plain JSON and superjson serialize. */
  readonly plain: unknown[];
  readonly build: (states: readonly WireState[], f: number) => Frame;
}

export function workload(kind: 'push' | 'changes'): Workload {
  const frames: Frame[] = [];
  const raw: DocState<Cart>[][] = [];
  const plain: unknown[] = [];
  const build = (states: readonly WireState[], f: number): Frame => {
    const first = f * PER_FRAME;
    if (kind === 'push') {
      const push: PushFrame = {
        type: 'push',
        id: `p-${f}`,
        ack: 'relay',
        changes: states.map((delta, j) => ({ collection: 'carts', key: `cart-${first + j}`, delta, writeNumber: first + j + 1 })),
      };
      return push;
    }
    const seq = first + PER_FRAME;
    const changes: ChangesFrame = {
      type: 'changes',
      collection: 'carts',
      phase: 'catchup',
      docs: states.map((state, j) => ({ key: `cart-${first + j}`, seq: first + j + 1, state })),
      watermark: seq,
      cursor: { ...cursor, seq },
    };
    return changes;
  };
  for (let f = 0; f < RECORDS / PER_FRAME; f++) {
    const states = Array.from({ length: PER_FRAME }, (_, j) => record(f * PER_FRAME + j));
    raw.push(states);
    frames.push(build(states.map(withEncodedValues), f));
    const first = f * PER_FRAME;
    const seq = first + PER_FRAME;
    plain.push(
      kind === 'push'
        ? {
            type: 'push',
            id: `p-${f}`,
            ack: 'relay',
            changes: states.map((s, j) => ({ collection: 'carts', key: `cart-${first + j}`, delta: encodeDocState(s), writeNumber: first + j + 1 })),
          }
        : {
            type: 'changes',
            collection: 'carts',
            phase: 'catchup',
            docs: states.map((_, j) => [`cart-${first + j}`, first + j + 1]),
            states: encodeDocStateBatch(states),
            watermark: seq,
            cursor: { ...cursor, seq },
          },
    );
  }
  return { frames, raw, plain, build };
}

/** The states a decoded frame carries. */
function statesOf(frame: Frame): readonly WireState[] {
  if (frame.type === 'push') return frame.changes.map((c) => c.delta);
  if (frame.type === 'changes') return frame.docs.map((d) => d.state);
  throw new Error(`unexpected ${frame.type}`);
}

let sink = 0;

type Pass = (limit: number) => void;

/** The four paths compared. The first is the baseline of the ratio; the second is the target's. */
export function passes(w: Workload): Record<string, Pass> {
  return {
    'plain JSON.stringify + JSON.parse (Date lost)': (limit) => {
      for (let f = 0; f < limit; f++) sink += (JSON.parse(JSON.stringify(w.plain[f])) as { type: string }).type.length;
    },
    'protocol: encodeFrame + decodeFrame (values pre-encoded by writer)': (limit) => {
      for (let f = 0; f < limit; f++) {
        const r = decodeFrame(encodeFrame(w.frames[f]!));
        if (!r.ok) throw r.error;
        sink += r.value.type.length;
      }
    },
    'protocol incl. value codec: encodeValue + encodeFrame + decodeFrame + decodeValue': (limit) => {
      for (let f = 0; f < limit; f++) {
        const frame = w.build(w.raw[f]!.map(withEncodedValues), f);
        const r = decodeFrame(encodeFrame(frame));
        if (!r.ok) throw r.error;
        for (const s of statesOf(r.value)) {
          for (const x of s.siblings) {
            if (x.deleted === true) continue;
            const v = decodeValue(x.value);
            if (!v.ok) throw v.error;
            sink += (v.value as Cart).updatedAt.getTime() & 1;
          }
        }
      }
    },
    'superjson.stringify + superjson.parse of the whole frame': (limit) => {
      for (let f = 0; f < limit; f++) sink += superjson.parse<{ type: string }>(superjson.stringify(w.plain[f])).type.length;
    },
  };
}

/** Where the protocol round trip's time goes: its parts, each on its own (decodeFrame = JSON.parse + validateFrame). */
function parts(w: Workload): Record<string, Pass> {
  const texts = w.frames.map((f) => encodeFrame(f));
  const parsed = texts.map((t) => JSON.parse(t) as unknown);
  return {
    'encodeFrame (wire shape + JSON.stringify)': (limit) => {
      for (let f = 0; f < limit; f++) sink += encodeFrame(w.frames[f]!).length;
    },
    '  of which JSON.stringify of the wire shape': (limit) => {
      for (let f = 0; f < limit; f++) sink += JSON.stringify(parsed[f]).length;
    },
    'JSON.parse of the frame text': (limit) => {
      for (let f = 0; f < limit; f++) sink += (JSON.parse(texts[f]!) as { type: string }).type.length;
    },
    'validateFrame (shape walk + frame decoders)': (limit) => {
      for (let f = 0; f < limit; f++) {
        const r = validateFrame(parsed[f]);
        if (!r.ok) throw r.error;
        sink += r.value.type.length;
      }
    },
    '  of which jsonShapeProblem (depth and reserved keys, values included)': (limit) => {
      for (let f = 0; f < limit; f++) sink += jsonShapeProblem(parsed[f], MAX_FRAME_DEPTH, 'frame') === undefined ? 1 : 0;
    },
    'value codec alone: encodeValue + decodeValue (writer and reader; not part of the frame round trip)': (limit) => {
      for (let f = 0; f < limit; f++) {
        for (const state of w.raw[f]!) {
          for (const x of state.siblings) {
            if (x.deleted === true) continue;
            const v = decodeValue(encodeValue(x.value));
            if (!v.ok) throw v.error;
            sink += 1;
          }
        }
      }
    },
  };
}

/** Checks what each path brings back: the Date survives the protocol and superjson, not plain JSON. */
function checkFidelity(w: Workload): void {
  const r = decodeFrame(encodeFrame(w.frames[0]!));
  if (!r.ok) throw r.error;
  const sibling = statesOf(r.value)[0]!.siblings[0]!;
  const v = decodeValue(sibling.deleted === true ? undefined : sibling.value);
  if (!v.ok || !((v.value as Cart).updatedAt instanceof Date)) throw new Error('protocol lost the Date');
  const viaSuper = superjson.parse(superjson.stringify(w.plain[0])) as unknown;
  if (!hasDate(viaSuper)) throw new Error('superjson lost the Date');
  if (hasDate(JSON.parse(JSON.stringify(w.plain[0])))) throw new Error('plain JSON kept a Date?');
}

function hasDate(x: unknown): boolean {
  if (x instanceof Date) return true;
  if (typeof x !== 'object' || x === null) return false;
  return Object.values(x).some(hasDate);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** Paths this much slower than plain JSON run 1/SLOW_SHARE of the records per pass (the rate is per record). */
const SLOW_SHARE = 5;
const isSlow = (name: string) => name.startsWith('superjson') || name.includes('value codec') || name.includes('encodeValue + decodeValue');

export async function runCodecBench(): Promise<string> {
  const lines = [
    `${RECORDS.toLocaleString('en')} change records per pass (${PER_FRAME} per frame; each a 3-entry version vector, one sibling with dot and HLC, and a cart value with 3 items and a Date); ` +
      `median of ${ROUNDS} rounds, the four paths interleaved in each round, after one warm-up pass each. ` +
      `superjson and the value-codec paths run ${fmt(RECORDS / SLOW_SHARE)} records per pass. push frames are decoded as a relay decodes them (one state per change); ` +
      `changes frames as a client decodes catch-up (states as one batch, each replica id written once).`,
    '',
    '| frame | path | records/s (median) | min–max | vs plain JSON | bytes/record |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  const breakdown = [
    '',
    'Where the protocol round trip goes (µs per record, median; the parts are measured alone, so they need not add up exactly):',
    '',
    '| part | push µs/record | changes µs/record |',
    '| --- | ---: | ---: |',
  ];
  const partRows = new Map<string, string[]>();
  const summary: string[] = [];
  for (const kind of ['push', 'changes'] as const) {
    const w = workload(kind);
    checkFidelity(w);
    const main = Object.entries(passes(w));
    const rates = new Map<string, number[]>();
    const frames = w.frames.length;
    const limitOf = (name: string) => (isSlow(name) ? frames / SLOW_SHARE : frames);
    // The four paths interleaved round by round; then the parts of the protocol path, whose
    // extra arrays (texts, parsed frames) exist only while they run: a larger live heap makes
    // every collection slower, and the protocol path allocates more than plain JSON.
    const measure = async (paths: [string, Pass][]) => {
      for (const [name, pass] of paths) {
        rates.set(name, []);
        pass(limitOf(name)); // warm-up
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, pass] of paths) {
          const limit = limitOf(name);
          const t0 = performance.now();
          pass(limit);
          const ms = performance.now() - t0;
          rates.get(name)!.push((limit * PER_FRAME) / (ms / 1000));
        }
        await new Promise((r) => setImmediate(r));
      }
    };
    await measure(main);
    let extra: [string, Pass][] | undefined = Object.entries(parts(w));
    await measure(extra);
    const extraNames = extra.map(([name]) => name);
    extra = undefined;
    const bytes = (name: string): number => {
      if (name.startsWith('plain')) return JSON.stringify(w.plain[0]).length / PER_FRAME;
      if (name.startsWith('superjson')) return superjson.stringify(w.plain[0]).length / PER_FRAME;
      return encodeFrame(w.frames[0]!).length / PER_FRAME;
    };
    const plainRate = median(rates.get(main[0]![0])!);
    for (const [name] of main) {
      const rs = rates.get(name)!;
      const m = median(rs);
      lines.push(
        `| ${kind} | ${name} | ${fmt(m)} | ${fmt(Math.min(...rs))}–${fmt(Math.max(...rs))} | ${(m / plainRate).toFixed(2)}× | ${Math.round(bytes(name))} |`,
      );
    }
    const us = (name: string) => (1e6 / median(rates.get(name)!)).toFixed(2);
    for (const name of [main[0]![0], main[1]![0], ...extraNames]) {
      const label = name === main[0]![0] ? 'plain JSON round trip (baseline)' : name === main[1]![0] ? 'protocol round trip (encodeFrame + decodeFrame)' : name;
      partRows.set(label, [...(partRows.get(label) ?? []), us(name)]);
    }
    const protocolRatio = median(rates.get(main[1]![0])!) / plainRate;
    summary.push(
      `${kind}: protocol/plain JSON = ${protocolRatio.toFixed(2)}× (target ≥ 0.70×: ${protocolRatio >= 0.7 ? 'met' : `MISSED by ${(0.7 - protocolRatio).toFixed(2)}×`})`,
    );
  }
  for (const [label, [push, changes]] of partRows) breakdown.push(`| ${label.replace(/^ {2}/, '… ')} | ${push} | ${changes} |`);
  if (sink === 0.5) console.log(sink); // keeps the results alive
  lines.push('', ...summary.map((s) => `- ${s}`), ...breakdown);
  return lines.join('\n');
}
