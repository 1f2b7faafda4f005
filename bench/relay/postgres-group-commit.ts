// Group-commit throughput of the relay over PostgreSQL (issue 13 §2), without quorum: one
// relay (createRelay over PostgresStore, rate limits lifted) and 1 or 20 writers, each pushing
// pushes of `perPush` blind writes to one collection, one push in flight per writer, for a
// bounded number of pushes. Reports changes/s, ack latency and how many pushes the relay's
// group commits held on average (from its transaction count).
//
//   npx tsx bench/relay/postgres-group-commit.ts [postgres://…]   (default: the local test database)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeValue } from '@converge/protocol';
import { createRelay, PostgresStore, type RelayStore, type StoreTx } from '@converge/sync-server';
import postgres from 'postgres';
import { pino } from 'pino';
import { blindChange, cartValue, median, newReplicaId, nowMs, percentile, pushText, withTimeout, WireClient, type Envelope } from './wire.js';

const url = process.argv[2] ?? process.env['CONVERGE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_gc_${process.pid}`;

/** Counts the store's transactions: pushes per group commit = pushes / transactions. */
function counting(store: RelayStore): { store: RelayStore; transactions: () => number } {
  let transactions = 0;
  const counted = new Proxy(store, {
    get(target, name) {
      if (name === 'transact') {
        return <T>(fn: (tx: StoreTx) => Promise<T> | T) => {
          transactions++;
          return target.transact(fn);
        };
      }
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: counted, transactions: () => transactions };
}

async function run(writers: number, pushes: number, perPush: number): Promise<string> {
  const opened = await PostgresStore.open(url, { schema });
  const { store, transactions } = counting(opened);
  const unlimited = { changesPerSecond: 1e9, burst: 1e9 };
  const relay = createRelay({ store, cursorSecret: 'bench', logger: pino({ level: 'silent' }), rateLimit: unlimited, principalRateLimit: unlimited });
  const server = createServer();
  relay.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relayUrl = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const value = encodeValue(cartValue(1));
  const latencies: number[] = [];
  const clients = await Promise.all(
    Array.from({ length: writers }, async () => {
      const client = await WireClient.open(relayUrl);
      const replica = newReplicaId();
      await client.hello(replica);
      return { client, replica };
    }),
  );
  const before = transactions();
  const started = nowMs();
  await Promise.all(
    clients.map(({ client, replica }, w) =>
      withTimeout(
        (async () => {
          let writeNumber = 0;
          for (let p = 0; p < pushes; p++) {
            const changes = Array.from({ length: perPush }, (_, i) => blindChange('bench', `w${w}-${p}-${i}`, replica, ++writeNumber, value));
            const sent = nowMs();
            const acked = new Promise<void>((resolve, reject) => {
              client.onFrame = (text) => {
                const frame = JSON.parse(text) as Envelope;
                if (frame.type !== 'ack' || frame.more === true) return;
                if (frame.results?.some((r) => r.status !== 'accepted')) reject(new Error(`refused: ${text.slice(0, 300)}`));
                else resolve();
              };
            });
            client.send(pushText(`p${p}`, changes));
            await acked;
            latencies.push(nowMs() - sent);
          }
        })(),
        120_000,
        `writer ${w}`,
      ),
    ),
  );
  const ms = nowMs() - started;
  const commits = transactions() - before;
  for (const { client } of clients) client.close();
  await relay.close();
  server.close();
  const changes = writers * pushes * perPush;
  latencies.sort((a, b) => a - b);
  return `| ${writers} | ${perPush} | ${changes.toLocaleString('en')} | ${Math.round((changes * 1000) / ms).toLocaleString('en')} | ${median(latencies).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} | ${((writers * pushes) / commits).toFixed(1)} |`;
}

const rows: string[] = [];
try {
  for (const [writers, pushes, perPush] of [
    [1, 400, 1],
    [20, 100, 1],
    [1, 100, 100],
    [20, 25, 100],
  ] as const) {
    rows.push(await run(writers, pushes, perPush));
  }
} finally {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.end();
}
console.log(`PostgreSQL group commit, no quorum (synchronous_commit as the server has it), one relay in this process, ${url.replace(/\/\/[^@]*@/, '//')}`);
console.log('| writers | changes per push | changes | changes/s | ack p50 ms | ack p99 ms | pushes per group commit |');
console.log('|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
