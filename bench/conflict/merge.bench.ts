// @converge/conflict: merges/s, local writes/s and encoded bytes of the metadata.
import {
  decodeDocState,
  emptyDocState,
  encodeDocState,
  encodeDocStateBatch,
  mergeDocStates,
  nextDot,
  replicaIdFromBytes,
  vectorFrom,
  writeDoc,
  type DocState,
} from '@converge/conflict';
import { randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';

type Value = { qty: number; note: string };
const value: Value = { qty: 2, note: 'oat milk' };

/** A replica id as a client makes one: 12 random bytes (96 bits) → 16 characters; 16 bytes → 22. */
function id(bytes = 12): string {
  return replicaIdFromBytes(randomBytes(bytes));
}

/** Two states of one key that share a history: a common base of `entries` replicas, then
 * `siblings` concurrent values on each side, one of them on both sides (when siblings > 1). */
export function mergeInputs(entries: number, siblings: number, pool?: readonly string[]): [DocState<Value>, DocState<Value>] {
  const replicas = pool ?? Array.from({ length: entries }, () => id());
  const base = { vv: vectorFrom(replicas.map((r, i) => [r, 3 + i] as const)), cloud: [] };
  const start: DocState<Value> = { context: base, siblings: [] };
  let wall = 1_763_700_000_000;
  const write = (s: DocState<Value>, r: string) =>
    writeDoc(s, { dot: nextDot(s, r), hlc: { wall: wall++, logical: 0, replica: r }, readContext: base, value }).state;
  const shared = siblings > 1 ? 1 : 0;
  let common = start;
  for (let i = 0; i < shared; i++) common = write(common, replicas[i % entries]!);
  let a = common;
  let b = common;
  for (let i = shared; i < siblings; i++) {
    a = write(a, replicas[(2 * i) % entries]!);
    b = write(b, replicas[(2 * i + 1) % entries]!);
  }
  // Decode both, as a relay or client would hold them: no object is shared between a and b.
  const fresh = (s: DocState<Value>) => {
    const r = decodeDocState(JSON.parse(JSON.stringify(encodeDocState(s))));
    if (!r.ok) throw r.error;
    return r.value as DocState<Value>;
  };
  return [fresh(a), fresh(b)];
}

export async function runConflictBench(): Promise<string> {
  const bench = new Bench({ time: 400, warmupTime: 100 });
  for (const siblings of [1, 3, 10]) {
    for (const entries of [2, 10, 100]) {
      const [a, b] = mergeInputs(entries, siblings);
      const merged = mergeDocStates(a, b).state;
      if (merged.siblings.length < siblings) throw new Error('bench inputs lost siblings');
      bench.add(`merge ${siblings} siblings × ${entries}-entry vectors`, () => {
        mergeDocStates(a, b);
      });
    }
  }
  const [writeBase] = mergeInputs(10, 1);
  const writer = writeBase.siblings[0]!.dot[0];
  bench.add('local write (10-entry vector, 1 sibling)', () => {
    writeDoc(writeBase, {
      dot: nextDot(writeBase, writer),
      hlc: { wall: 1_800_000_000_000, logical: 0, replica: writer },
      readContext: writeBase.context,
      value,
    });
  });
  await bench.run();

  const lines = ['| operation | ops/s | mean µs | p99 µs |', '| --- | ---: | ---: | ---: |'];
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`);
    lines.push(
      `| ${task.name} | ${Math.round(r.throughput.mean).toLocaleString('en')} | ${(r.latency.mean * 1000).toFixed(2)} | ${((r.latency.p99 ?? 0) * 1000).toFixed(2)} |`,
    );
  }

  // Metadata bytes: the encoded state with its value left out (0 stands in and is subtracted).
  const meta = (s: DocState<Value>) => JSON.stringify(encodeDocState(s, () => 0)).length - 1;
  lines.push('', '| single-sibling state | metadata bytes, 96-bit ids (16 chars) | metadata bytes, 128-bit ids (22 chars) |', '| --- | ---: | ---: |');
  const single = (entries: number, idBytes: number) => {
    let s = emptyDocState<Value>();
    for (let i = 0; i < entries; i++) {
      const r = id(idBytes);
      s = writeDoc(s, { dot: nextDot(s, r), hlc: { wall: 1_763_700_000_000, logical: 0, replica: r }, readContext: s.context, value }).state;
    }
    return meta(s);
  };
  for (const entries of [1, 2, 10, 100]) {
    lines.push(`| ${entries}-entry vector | ${single(entries, 12)} | ${single(entries, 16)} |`);
  }
  // A frame's keys are written by the same few replicas (one household's devices, a team).
  const team = Array.from({ length: 10 }, () => id());
  const keys = Array.from({ length: 100 }, () => mergeInputs(10, 1, team)[0]);
  const oneByOne = keys.reduce((n, s) => n + meta(s), 0);
  const batch = JSON.stringify(encodeDocStateBatch(keys, () => 0)).length - keys.length;
  lines.push(
    '',
    `100 keys × 10-entry vectors over the same 10 replicas (96-bit ids): ${oneByOne.toLocaleString('en')} bytes encoded one by one, ` +
      `${batch.toLocaleString('en')} bytes as one batch with each replica id written once (${Math.round((1 - batch / oneByOne) * 100)}% smaller).`,
  );
  return lines.join('\n');
}
