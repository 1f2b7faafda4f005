// @converge/protocol codec, measured side by side in one run against plain JSON of the same
// frames (same wire layout, raw values: a Date is lost) and superjson over whole frames.
// Three workloads:
//   push     100 cart records per push (3-entry version vector, a cart with a Date): what a relay decodes
//   changes  the same records in a catch-up `changes` frame: what a client decodes
//   w1       the peer benchmark's W1 records (10,000 keys `key-00001`…, ~103-byte plain JSON values,
//            one sibling written by one replica) in catch-up frames of 500, as the relay sends them
import {
  adoptOrMerge,
  createHlcClock,
  encodeDocStateBatch,
  nextDot,
  replicaIdFromBytes,
  vectorFrom,
  writeDoc,
  type DocState,
  type ReplicaId,
  type Sibling,
} from '@converge/conflict';
import {
  changesFrameText,
  decodeFrame,
  decodeRelayFrame,
  decodeValue,
  decodeWireState,
  encodeFrame,
  encodeValue,
  encodeWireState,
  jsonShapeProblem,
  MAX_FRAME_DEPTH,
  storedStateText,
  validateFrame,
  type ChangesEnvelope,
  type ChangesFrame,
  type Frame,
  type PushFrame,
  type StoredChange,
  type WireState,
} from '@converge/protocol';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import superjson from 'superjson';
import { runInNode } from './run-in-node.js';

const ROUNDS = Number(process.env['BENCH_CODEC_ROUNDS'] ?? 7);

export type Kind = 'push' | 'changes' | 'w1';

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

/** The peer benchmark's W1 record (bench/peers/workload.ts): plain JSON, ~103 bytes. */
const pad = (n: number, width: number) => String(n).padStart(width, '0');
export const w1Key = (i: number) => `key-${pad(i, 5)}`;
export function w1Value(i: number) {
  return { title: `Record ${pad(i, 5)}`, done: i % 3 === 0, tags: ['alpha', 'beta'], owner: `user-${pad(i % 1000, 3)}`, updatedAt: 1_767_225_600_000 + i };
}

/** A household: three devices (96-bit replica ids) writing the same carts. */
const team: ReplicaId[] = Array.from({ length: 3 }, () => replicaIdFromBytes(randomBytes(12)));
const writerA = replicaIdFromBytes(randomBytes(16));

/** One write of device `i % 3` on top of what all three had written: the delta it pushes. */
function cartRecord(i: number): DocState<unknown> {
  const readContext = { vv: vectorFrom(team.map((r, j) => [r, 10 + ((i + j) % 7)] as const)), cloud: [] };
  const base: DocState<unknown> = { context: readContext, siblings: [] };
  const writer = team[i % team.length]!;
  const dot = nextDot(base, writer);
  return writeDoc(base, { dot, hlc: { wall: 1_767_225_600_000 + i, logical: i % 3, replica: writer }, readContext, value: cart(i) as unknown }).delta;
}

/** A's clock for W1: ~20 writes per millisecond, so most writes share a millisecond (logical 1, 2, …) as they do in the peer benchmark. */
let w1Now = 1_767_225_600_000;
const w1Clock = createHlcClock({ replica: writerA, now: () => w1Now });

/** W1: replica A's first write of key i. */
function w1Record(i: number): DocState<unknown> {
  w1Now = 1_767_225_600_000 + Math.floor(i / 20);
  const hlc = w1Clock.tick();
  return writeDoc<unknown>(
    { context: { vv: new Map(), cloud: [] }, siblings: [] },
    { dot: [writerA, 1], hlc, readContext: { vv: new Map(), cloud: [] }, value: w1Value(i) },
  ).state;
}

const mapValues = <A, B>(s: DocState<A>, f: (v: A) => B): DocState<B> => ({
  context: s.context,
  siblings: s.siblings.map((x): Sibling<B> => (x.deleted === true ? x : { dot: x.dot, hlc: x.hlc, value: f(x.value) })),
});
const withEncodedValues = (s: DocState<unknown>): WireState => mapValues(s, (v) => encodeValue(v));

const cursorAt = (seq: number) => ({ lineage: 'L9f3kQ2mZxT0', seq, hash: 'u2V9cYg1pE0Jm8QxZ4rKsA', mac: 'Xb7Tq0Lw9ZcN3fHy6GmR1vEo' });

export interface Workload {
  readonly kind: Kind;
  readonly records: number;
  readonly perFrame: number;
  /** Frames as their sender holds them, values already encoded once by their writer. */
  readonly frames: Frame[];
  /** The states with raw values (the cart with its Date): the writer's input. */
  readonly raw: DocState<unknown>[][];
  /** The frames' wire layout with raw values: what plain JSON and superjson serialize. */
  readonly plain: unknown[];
  /** For `changes` frames: what a relay stored per key, and each frame's envelope. */
  readonly stored: StoredChange[][];
  readonly envelopes: ChangesEnvelope[];
  readonly build: (states: readonly WireState[], f: number) => Frame;
}

/** Puts the raw values back into a frame's wire JSON, slot by slot (siblings keep their order). */
function plainOf(frame: Frame, raw: DocState<unknown>[]): unknown {
  const wire = JSON.parse(encodeFrame(frame)) as { changes?: { delta: unknown }[]; docs?: unknown[][] };
  const fill = (json: unknown, state: DocState<unknown>): unknown => {
    const live = state.siblings.map((s) => (s.deleted === true ? undefined : s.value));
    if (Array.isArray(json)) return [...json.slice(0, 4), live[0]];
    const body = json as { s: unknown[][] };
    return { ...body, s: body.s.map((sibling, j) => (sibling.length === 5 ? [...sibling.slice(0, 4), live[j]] : sibling)) };
  };
  if (wire.changes !== undefined) wire.changes = wire.changes.map((c, j) => ({ ...c, delta: fill(c.delta, raw[j]!) }));
  if (wire.docs !== undefined) {
    wire.docs = wire.docs.map((doc, j) => {
      if (doc.length === 3) return [doc[0], doc[1], fill(doc[2], raw[j]!)];
      const live = raw[j]!.siblings[0] as { value: unknown };
      return [doc[0], doc[1], live.value, ...doc.slice(3)];
    });
  }
  return wire;
}

export function workload(kind: Kind): Workload {
  const records = kind === 'w1' ? 10_000 : 100_000;
  const perFrame = kind === 'w1' ? 500 : 100;
  const frames: Frame[] = [];
  const raw: DocState<unknown>[][] = [];
  const plain: unknown[] = [];
  const stored: StoredChange[][] = [];
  const envelopes: ChangesEnvelope[] = [];
  const envelopeOf = (f: number): ChangesEnvelope => {
    const seq = (f + 1) * perFrame;
    return { collection: kind === 'w1' ? 'records' : 'carts', phase: 'catchup', watermark: seq, cursor: cursorAt(seq) };
  };
  const build = (states: readonly WireState[], f: number): Frame => {
    const first = f * perFrame;
    if (kind === 'push') {
      const push: PushFrame = {
        type: 'push',
        id: `p-${f}`,
        ack: 'relay',
        changes: states.map((delta, j) => ({
          collection: 'carts',
          key: `cart-${first + j}`,
          delta,
          writeNumber: first + j + 1,
          chain: (first + j + 1).toString(16),
        })),
      };
      return push;
    }
    const key = (i: number) => (kind === 'w1' ? w1Key(i + 1) : `cart-${i}`);
    const changes: ChangesFrame = { type: 'changes', ...envelopeOf(f), docs: states.map((state, j) => ({ key: key(first + j), seq: first + j + 1, state })) };
    return changes;
  };
  for (let f = 0; f < records / perFrame; f++) {
    const states = Array.from({ length: perFrame }, (_, j) => (kind === 'w1' ? w1Record(f * perFrame + j + 1) : cartRecord(f * perFrame + j)));
    raw.push(states);
    const frame = build(states.map(withEncodedValues), f);
    frames.push(frame);
    plain.push(plainOf(frame, states));
    if (frame.type === 'changes') {
      stored.push(frame.docs.map((d) => ({ key: d.key, seq: d.seq, stored: storedStateText(d.state) })));
      envelopes.push(envelopeOf(f));
    }
  }
  return { kind, records, perFrame, frames, raw, plain, stored, envelopes, build };
}

/** The states a decoded frame carries. */
function statesOf(frame: Frame): readonly WireState[] {
  if (frame.type === 'push') return frame.changes.map((c) => c.delta);
  if (frame.type === 'changes') return frame.docs.map((d) => d.state);
  throw new Error(`unexpected ${frame.type}`);
}

let sink = 0;

type Pass = (limit: number) => void;

const PLAIN = 'plain JSON.stringify + JSON.parse (same frames, raw values: Date lost)';
const PROTOCOL = 'protocol: encodeFrame + decodeFrame (values pre-encoded by writer)';
const RELAY_PATH = 'relay → client: changesFrameText (stored text) + decodeRelayFrame';
const CLIENT = 'client catch-up: decodeRelayFrame + adoptOrMerge + decodeValue of every value';
const VALUE_CODEC = 'protocol incl. value codec: encodeValue + encodeFrame + decodeFrame + decodeValue';
const SUPERJSON = 'superjson.stringify + superjson.parse of the whole frame';

/** The paths compared. The first is the baseline of every ratio. */
export function passes(w: Workload): Record<string, Pass> {
  const texts = w.kind === 'push' ? [] : w.frames.map((f) => encodeFrame(f));
  const paths: Record<string, Pass> = {
    [PLAIN]: (limit) => {
      for (let f = 0; f < limit; f++) sink += (JSON.parse(JSON.stringify(w.plain[f])) as { type: string }).type.length;
    },
    [PROTOCOL]: (limit) => {
      for (let f = 0; f < limit; f++) {
        const r = decodeFrame(encodeFrame(w.frames[f]!));
        if (!r.ok) throw r.error;
        sink += r.value.type.length;
      }
    },
  };
  if (w.kind !== 'push') {
    paths[RELAY_PATH] = (limit) => {
      for (let f = 0; f < limit; f++) {
        const { text, bytes } = changesFrameText({ ...w.envelopes[f]!, docs: w.stored[f]! });
        const r = decodeRelayFrame(text);
        if (!r.ok) throw r.error;
        sink += bytes;
      }
    };
    paths[CLIENT] = (limit) => {
      const held = new Map<string, DocState<unknown>>();
      for (let f = 0; f < limit; f++) {
        const r = decodeRelayFrame(texts[f]!);
        if (!r.ok || r.value.type !== 'changes') throw new Error('not a changes frame');
        for (const doc of r.value.docs) {
          const { state } = adoptOrMerge(held.get(doc.key), doc.state as DocState<unknown>);
          held.set(doc.key, state);
          for (const x of state.siblings) {
            if (x.deleted === true) continue;
            const v = decodeValue(x.value);
            if (!v.ok) throw v.error;
            sink += typeof v.value === 'object' ? 1 : 0;
          }
        }
      }
    };
  }
  paths[VALUE_CODEC] = (limit) => {
    for (let f = 0; f < limit; f++) {
      const frame = w.build(w.raw[f]!.map(withEncodedValues), f);
      const r = decodeFrame(encodeFrame(frame));
      if (!r.ok) throw r.error;
      for (const s of statesOf(r.value)) {
        for (const x of s.siblings) {
          if (x.deleted === true) continue;
          const v = decodeValue(x.value);
          if (!v.ok) throw v.error;
          sink += typeof v.value === 'object' ? 1 : 0;
        }
      }
    }
  };
  paths[SUPERJSON] = (limit) => {
    for (let f = 0; f < limit; f++) sink += superjson.parse<{ type: string }>(superjson.stringify(w.plain[f])).type.length;
  };
  return paths;
}

/** Where the protocol round trip's time goes: its parts, each on its own (decodeFrame = JSON.parse + validateFrame). */
function parts(w: Workload): Record<string, Pass> {
  const texts = w.frames.map((f) => encodeFrame(f));
  const parsed = texts.map((t) => JSON.parse(t) as unknown);
  return {
    'encodeFrame (wire text from decoded states)': (limit) => {
      for (let f = 0; f < limit; f++) sink += encodeFrame(w.frames[f]!).length;
    },
    'JSON.stringify of the same wire JSON': (limit) => {
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
  };
}

/** Checks what each path brings back: the Date survives the protocol and superjson, not plain JSON. */
function checkFidelity(w: Workload): void {
  const r = decodeFrame(encodeFrame(w.frames[0]!));
  if (!r.ok) throw r.error;
  const sibling = statesOf(r.value)[0]!.siblings[0]!;
  const v = decodeValue(sibling.deleted === true ? undefined : sibling.value);
  if (!v.ok) throw v.error;
  const original = (w.raw[0]![0]!.siblings[0] as { value: unknown }).value;
  if (JSON.stringify(superjson.serialize(v.value)) !== JSON.stringify(superjson.serialize(original))) throw new Error('protocol changed the value');
  if (w.kind !== 'w1') {
    if (!((v.value as Cart).updatedAt instanceof Date)) throw new Error('protocol lost the Date');
    if (hasDate(JSON.parse(JSON.stringify(w.plain[0])))) throw new Error('plain JSON kept a Date?');
  }
  if (w.kind !== 'push') {
    const built = changesFrameText({ ...w.envelopes[0]!, docs: w.stored[0]! }).text;
    if (built !== encodeFrame(w.frames[0]!)) throw new Error('stored-text frame differs from encodeFrame');
  }
}

function hasDate(x: unknown): boolean {
  if (x instanceof Date) return true;
  if (typeof x !== 'object' || x === null) return false;
  return Object.values(x).some(hasDate);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

/** Paths this much slower than plain JSON run 1/SLOW_SHARE of the frames per pass (the rate is per record). */
const SLOW_SHARE = 5;
const isSlow = (name: string) => name === SUPERJSON || name === VALUE_CODEC;

/**
 * What a relay spends per catch-up record to build frames: today's path (its stored protocol-1
 * text parsed, validated and re-encoded) against building frames from stored text alone.
 */
async function relayBuild(): Promise<string[]> {
  const rows = ['', 'Relay side of catch-up, per record: building `changes` frames from what the relay stored (µs per record, median of rounds).', ''];
  rows.push(
    '| workload | parse stored v1 text + decodeWireState + encodeFrame | changesFrameText from stored v2 text | ratio |',
    '| --- | ---: | ---: | ---: |',
  );
  for (const kind of ['changes', 'w1'] as const) {
    const w = workload(kind);
    const v1Texts = w.frames.map((f) => (f as ChangesFrame).docs.map((d) => ({ key: d.key, seq: d.seq, text: JSON.stringify(encodeWireState(d.state)) })));
    const old: Pass = (limit) => {
      for (let f = 0; f < limit; f++) {
        const docs = v1Texts[f]!.map((d) => {
          const state = decodeWireState(JSON.parse(d.text), 'stored');
          if (!state.ok) throw state.error;
          return { key: d.key, seq: d.seq, state: state.value };
        });
        sink += encodeFrame({ type: 'changes', ...w.envelopes[f]!, docs }).length;
      }
    };
    const fresh: Pass = (limit) => {
      for (let f = 0; f < limit; f++) sink += changesFrameText({ ...w.envelopes[f]!, docs: w.stored[f]! }).bytes;
    };
    const times = { old: [] as number[], fresh: [] as number[] };
    old(w.frames.length);
    fresh(w.frames.length);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, pass] of [
        ['old', old],
        ['fresh', fresh],
      ] as const) {
        const t0 = performance.now();
        pass(w.frames.length);
        times[name].push(((performance.now() - t0) * 1000) / w.records);
      }
      await new Promise((r) => setImmediate(r));
    }
    const a = median(times.old);
    const b = median(times.fresh);
    rows.push(`| ${kind} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(1)}× less CPU |`);
  }
  return rows;
}

/** W1 bytes on the wire per record, protocol 2 against protocol 1's layout, frames of 500 as the relay's catch-up sends them. */
function w1Bytes(): string[] {
  const w = workload('w1');
  let v2 = 0;
  let v1 = 0;
  let values = 0;
  for (let f = 0; f < w.frames.length; f++) {
    v2 += changesFrameText({ ...w.envelopes[f]!, docs: w.stored[f]! }).bytes;
    const frame = w.frames[f] as ChangesFrame;
    v1 += JSON.stringify({
      type: 'changes',
      ...w.envelopes[f],
      docs: frame.docs.map((d) => [d.key, d.seq]),
      states: encodeDocStateBatch(frame.docs.map((d) => d.state)),
    }).length;
    for (const s of w.raw[f]!) values += JSON.stringify((s.siblings[0] as { value: unknown }).value).length;
  }
  const per = (n: number) => (n / w.records).toFixed(1);
  return [
    `W1 on the wire (${w.records.toLocaleString('en')} records of ${per(values)} B of plain JSON each, catch-up frames of ${w.perFrame}): ` +
      `protocol 2 ${per(v2)} B/record (${(v2 / values).toFixed(2)}× the values; target ≤ 1.20×: ${v2 / values <= 1.2 ? 'met' : 'MISSED'}), ` +
      `protocol 1's layout ${per(v1)} B/record (${(v1 / values).toFixed(2)}×). Everything counted: key, seq, state, envelope and cursor.`,
  ];
}

export async function measureCodec(): Promise<string> {
  const lines = [
    `Workloads: **push** and **changes**: 100,000 cart records per pass, 100 per frame (each a 3-entry version vector, one sibling, a cart with 3 items and a Date: ` +
      `the general state form, value wrapped with its meta); **w1**: the peer benchmark's 10,000 W1 records (simple states, ~103-byte plain JSON values) in catch-up frames of 500. ` +
      `${ROUNDS} rounds after one warm-up pass each; in every round the paths run back to back, and each path's ratio to plain JSON is taken within the round ` +
      `(a run pair), so load on this shared machine moves both sides; min / median / max over the rounds. superjson and the value-codec path run 1/${SLOW_SHARE} of the frames.`,
    '',
    '| workload | path | records/s (median) | ratio to plain JSON per round: min / median / max | bytes/record |',
    '| --- | --- | ---: | ---: | ---: |',
  ];
  const breakdown = [
    '',
    'Where the protocol round trip goes (µs per record, median; parts measured alone, so they need not add up exactly):',
    '',
    '| part | push | changes | w1 |',
    '| --- | ---: | ---: | ---: |',
  ];
  const partRows = new Map<string, string[]>();
  const summary: string[] = [];
  for (const kind of ['push', 'changes', 'w1'] as const) {
    const w = workload(kind);
    checkFidelity(w);
    const main = Object.entries(passes(w));
    const frames = w.frames.length;
    const limitOf = (name: string) => (isSlow(name) ? Math.max(1, frames / SLOW_SHARE) : frames);
    const rates = new Map<string, number[]>();
    const ratios = new Map<string, number[]>();
    const measure = async (paths: [string, Pass][]) => {
      for (const [name, pass] of paths) {
        rates.set(name, []);
        ratios.set(name, []);
        pass(limitOf(name)); // warm-up
      }
      for (let round = 0; round < ROUNDS; round++) {
        let baseline = 0;
        for (const [name, pass] of paths) {
          const limit = limitOf(name);
          const t0 = performance.now();
          pass(limit);
          const rate = (limit * w.perFrame) / ((performance.now() - t0) / 1000);
          if (name === PLAIN) baseline = rate;
          rates.get(name)!.push(rate);
          if (baseline > 0) ratios.get(name)!.push(rate / baseline);
        }
        await new Promise((r) => setImmediate(r));
      }
    };
    await measure(main);
    const bytes = (name: string): number => {
      if (name === PLAIN) return JSON.stringify(w.plain[0]).length / w.perFrame;
      if (name === SUPERJSON) return superjson.stringify(w.plain[0]).length / w.perFrame;
      return encodeFrame(w.frames[0]!).length / w.perFrame;
    };
    for (const [name] of main) {
      const rs = ratios.get(name)!;
      const ratio = name === PLAIN ? '1' : `${Math.min(...rs).toFixed(2)} / **${median(rs).toFixed(2)}** / ${Math.max(...rs).toFixed(2)}`;
      lines.push(`| ${kind} | ${name} | ${fmt(median(rates.get(name)!))} | ${ratio} | ${Math.round(bytes(name))} |`);
    }
    const target = ratios.get(PROTOCOL)!;
    const m = median(target);
    summary.push(
      `${kind}: protocol round trip / plain JSON, per round: min ${Math.min(...target).toFixed(2)}×, median ${m.toFixed(2)}×, max ${Math.max(...target).toFixed(2)}× ` +
        `(target ≥ 0.70×: ${m >= 0.7 ? 'met' : `MISSED by ${(0.7 - m).toFixed(2)}×`})`,
    );
    let extra: [string, Pass][] | undefined = Object.entries(parts(w));
    await measure(extra);
    const us = (name: string) => (1e6 / median(rates.get(name)!)).toFixed(2);
    for (const name of [PLAIN, PROTOCOL, ...(kind === 'push' ? [] : [RELAY_PATH, CLIENT]), ...extra.map(([n]) => n)]) {
      const label = name === PLAIN ? 'plain JSON round trip (baseline)' : name;
      const row = partRows.get(label) ?? ['–', '–', '–'];
      row[['push', 'changes', 'w1'].indexOf(kind)] = us(name);
      partRows.set(label, row);
    }
    extra = undefined;
  }
  for (const [label, cells] of partRows) breakdown.push(`| ${label.replace(/^ {2}/, '… ')} | ${cells.join(' | ')} |`);
  if (sink === 0.5) console.log(sink); // keeps the results alive
  lines.push('', ...summary.map((s) => `- ${s}`), '', ...w1Bytes(), ...breakdown, ...(await relayBuild()));
  return lines.join('\n');
}

/** The codec suite, run in plain node on the built packages (`npm run bench -- codec`). */
export async function runCodecBench(): Promise<string> {
  return (await runInNode(fileURLToPath(new URL('./codec.child.ts', import.meta.url)))).trimEnd();
}
