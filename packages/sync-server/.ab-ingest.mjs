// In-process A/B of the group commit (judge + store) — before (sync store) vs after (async store).
import { createHlcClock, emptyDocState, writeDoc, chainWrite, WRITE_CHAIN_ZERO, EMPTY_CONTEXT } from '@converge/conflict';
import { encodeValue } from '@converge/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const versions = {
  before: await loadVersion('./.dist-before'),
  after: await loadVersion('./.dist-after'),
};
async function loadVersion(dir) {
  return {
    Ingest: (await import(`${dir}/ingest.js`)).Ingest,
    SqliteStore: (await import(`${dir}/store/sqlite-store.js`)).SqliteStore,
    MemoryStore: (await import(`${dir}/store/memory-store.js`)).MemoryStore,
    CollectionRegistry: (await import(`${dir}/collections.js`)).CollectionRegistry,
    anonymousAuth: (await import(`${dir}/auth/auth.js`)).anonymousAuth,
    DEFAULT_LIMITS: (await import(`${dir}/relay-limits.js`)).DEFAULT_LIMITS,
  };
}
function buildPushes(tag, pushes, perPush) {
  const out = [];
  for (let r = 0; r < 10; r++) {
    const replicaId = `abReplica${tag}${r}`.padEnd(22, 'x').slice(0, 22);
    const clock = createHlcClock({ replica: replicaId, now: () => Date.now() });
    let n = 0,
      chain = WRITE_CHAIN_ZERO;
    for (let p = 0; p < pushes / 10; p++) {
      const changes = [];
      for (let c = 0; c < perPush; c++) {
        n++;
        const key = `k-${r}-${n}`;
        const written = writeDoc(emptyDocState(), {
          dot: [replicaId, n],
          hlc: clock.tick(),
          readContext: EMPTY_CONTEXT,
          value: encodeValue({ item: n, name: 'cart item', qty: 3 }),
        });
        chain = chainWrite(chain, 'ingest', key, written.delta.siblings[0]);
        changes.push({ collection: 'ingest', key, delta: written.delta, writeNumber: n, chain });
      }
      out.push({ replicaId, principal: { id: 'anonymous' }, changes, frameBytes: 40_000 });
    }
  }
  return out;
}
async function runOnce(v, kind, pushes) {
  const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'ab-')) : undefined;
  const store = kind === 'sqlite' ? new v.SqliteStore(join(dir, 'r.db')) : new v.MemoryStore();
  const collections = new v.CollectionRegistry({});
  const rules = () => ({ collections, auth: v.anonymousAuth, limits: v.DEFAULT_LIMITS, now: Date.now(), recoveryOpen: false });
  const ingest = new v.Ingest(store, rules, () => undefined);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let done = 0;
  await new Promise((resolve) => {
    let i = 0;
    // 10 pushes in flight, as 10 connections would
    const next = () => {
      if (i >= pushes.length) return;
      const push = pushes[i++];
      ingest.submit(push, (out) => {
        if (out instanceof Error) throw out;
        done++;
        if (done === pushes.length) resolve();
        else next();
      });
    };
    for (let k = 0; k < 10; k++) next();
  });
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  await store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  const changes = pushes.length * pushes[0].changes.length;
  return { usPerChange: (cpu.user + cpu.system) / changes, wall };
}
const kinds = process.argv.slice(2).length ? process.argv.slice(2) : ['sqlite', 'memory'];
for (const kind of kinds) {
  const ratios = [];
  const rows = [];
  for (let round = 0; round < 7; round++) {
    const order = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
    const res = {};
    for (const name of order) res[name] = await runOnce(versions[name], kind, buildPushes(`${name}${round}`, 200, 100));
    if (round === 0) continue; // warm-up
    ratios.push(res.after.usPerChange / res.before.usPerChange);
    rows.push(`${res.before.usPerChange.toFixed(2)} → ${res.after.usPerChange.toFixed(2)} µs/change`);
  }
  ratios.sort((a, b) => a - b);
  console.log(
    kind,
    rows.join('; '),
    '| after/before per round:',
    ratios.map((r) => r.toFixed(3)).join(' '),
    '| median',
    ratios[Math.floor(ratios.length / 2)].toFixed(3),
  );
}
