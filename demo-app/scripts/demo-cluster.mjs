// `npm start -- --cluster`: a PostgreSQL primary and two synchronous standbys (`ANY 1 (s1, s2)`)
// under <data>/pg, two relays over it (A and B, each its own port and connection pool, both
// listing every node with target_session_attrs=primary), and the control the page calls on
// relay A's port (127.0.0.1 only): the cluster's state, "kill the primary" (SIGKILL, then the most
// up-to-date standby promoted, as an HA tool does it), and a check of written dots on the new primary.
import { Buffer } from 'node:buffer';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { contextHas } from '@converge/conflict';
import { parseStoredState } from '@converge/protocol';
import { PostgresStore } from '@converge/sync-server';
import { startPgCluster } from '@converge/sync-server/testing/pg-cluster';
import { startDemoRelay } from './demo-relay.mjs';

/** Where the page reaches each relay: relay A on `/sync` (as without --cluster), relay B on `/sync-b` (the Vite proxy forwards both). */
export const RELAY_PATHS = { A: '/sync', B: '/sync-b' };

const SCHEMA = 'converge';
const MAX_BODY = 1 << 20;

function json(response, status, body) {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(text);
}

async function readJson(request) {
  let size = 0;
  const chunks = [];
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const isDot = (dot) => Array.isArray(dot) && dot.length === 2 && typeof dot[0] === 'string' && Number.isSafeInteger(dot[1]) && dot[1] >= 1;

/** Retries `fn` while the database is away (a failover under way), bounded in time. */
async function retrying(fn, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > end) throw error;
      await sleep(100);
    }
  }
}

/**
 * Starts the cluster and the two relays. Throws (having stopped what it started) when PostgreSQL's
 * server programs are missing: the message says where it looked.
 * @param {{ dataDir: string, relayPorts: [number, number], binDir?: string, log: (line: string) => void }} options
 */
export async function startDemoCluster({ dataDir, relayPorts, binDir, log }) {
  const parentDir = join(dataDir, 'pg');
  mkdirSync(parentDir, { recursive: true });
  if (process.getuid?.() === 0) {
    // The servers run as `postgres` under root (initdb refuses root): it must reach its directory.
    chmodSync(parentDir, 0o755);
    for (let dir = dirname(parentDir); dir !== dirname(dir); dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0)
        throw new Error(`PostgreSQL runs as the postgres user, which cannot enter ${dir}: chmod o+x it, or pass --data elsewhere`);
    }
  }
  const cluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1', parentDir, ...(binDir === undefined ? {} : { binDir }) });
  const url = cluster.multiHostUrl(); // target_session_attrs=primary: see docs/DEPLOYMENT.md
  const relays = {};
  const stores = {};
  const failovers = [];
  /** A failover or a rejoin is under way: no other kill until it is done. */
  let busy = false;

  const state = () => ({
    id: basename(cluster.root),
    nodes: cluster.nodes.map((node) => ({
      name: node.name,
      port: node.port,
      role: node.state !== 'running' ? 'down' : node === cluster.primary ? 'primary' : 'standby',
    })),
    relays: Object.entries(RELAY_PATHS).map(([name, path]) => ({ name, path, port: relays[name]?.port })),
    synchronous: 'ANY 1',
    failovers,
    busy,
  });

  /** SIGKILL of the primary, promotion of the most up-to-date standby, both relays writing again; then the old primary rejoins as a standby (in the background). */
  async function killPrimary() {
    const killed = cluster.primary;
    const started = Date.now();
    await cluster.kill(killed, 'SIGKILL');
    const promotion = await cluster.promoteMostUpToDate();
    const promotedMs = Date.now() - started;
    // Each relay writes (its own `devices` row) once it reached the new primary: its pool moved over.
    await Promise.all(Object.values(relays).map((r) => retrying(() => r.relay.write('devices', r.relay.relayId, { value: 'relay' }))));
    const writableMs = Date.now() - started;
    const failover = { killed: killed.name, promoted: promotion.node.name, promotedMs, writableMs, rejoined: false, at: started };
    failovers.push(failover);
    log(`  killed ${killed.name}; ${promotion.node.name} promoted after ${promotedMs} ms; both relays writing after ${writableMs} ms`);
    const rejoin = cluster
      .rejoinAsStandby(killed)
      .then(() => {
        failover.rejoined = true;
        log(`  ${killed.name} rejoined as a standby of ${promotion.node.name}`);
      })
      .catch((error) => log(`  ${killed.name} did not rejoin: ${error.message}`));
    return { failover, rejoin };
  }

  /** Which of these writes (collection, key, dot) the relay's store holds: the key's state on the primary has seen the dot. */
  async function verify(relayName, writes) {
    const store = stores[relayName];
    if (store === undefined) throw new Error(`no relay ${relayName}`);
    const lost = [];
    for (const write of writes) {
      const doc = await retrying(() => store.get(write.collection, write.key));
      const parsed = doc === undefined ? undefined : parseStoredState(doc.state);
      if (parsed === undefined || !parsed.ok || !contextHas(parsed.value.context, write.dot)) lost.push(write);
    }
    return { checked: writes.length, lost, primary: cluster.primary.name };
  }

  function handle(request, response) {
    const path = (request.url ?? '').split('?')[0];
    if (!path.startsWith('/cluster/')) return false;
    void (async () => {
      try {
        if (request.method === 'GET' && path === '/cluster/state') return json(response, 200, state());
        if (request.method === 'POST' && path === '/cluster/kill-primary') {
          if (busy || cluster.nodes.some((node) => node.state !== 'running'))
            return json(response, 409, { error: 'a failover is under way (the old primary is still rejoining): try again in a moment' });
          busy = true;
          try {
            const { failover, rejoin } = await killPrimary();
            void rejoin.finally(() => (busy = false));
            return json(response, 200, failover);
          } catch (error) {
            busy = false;
            throw error;
          }
        }
        if (request.method === 'POST' && path === '/cluster/verify') {
          const body = await readJson(request);
          const writes = Array.isArray(body?.writes) ? body.writes : undefined;
          if (writes === undefined || !writes.every((w) => typeof w?.collection === 'string' && typeof w.key === 'string' && isDot(w.dot)))
            return json(response, 400, { error: 'expected {relay, writes: [{collection, key, dot}]}' });
          return json(response, 200, await verify(String(body.relay), writes));
        }
        return json(response, 404, { error: `no ${request.method} ${path}` });
      } catch (error) {
        return json(response, 500, { error: error.message });
      }
    })();
    return true;
  }

  try {
    for (const [index, name] of ['A', 'B'].entries()) {
      // Two connections per relay and one for LISTEN; a 2 s connect timeout per host moves a pool past a dead node.
      const store = await PostgresStore.open(url, { schema: SCHEMA, maxConnections: 4, replicationCheckMs: 1_000, connectTimeoutSeconds: 2 });
      stores[name] = store;
      relays[name] = await startDemoRelay({
        port: relayPorts[index],
        host: '127.0.0.1',
        dataDir,
        store,
        name: `cluster-${name.toLowerCase()}`,
        ...(index === 0 ? { handle } : {}),
      });
    }
  } catch (error) {
    for (const r of Object.values(relays)) await r.close().catch(() => undefined);
    for (const [name, store] of Object.entries(stores)) if (relays[name] === undefined) await store.close().catch(() => undefined);
    await cluster.stop();
    throw error;
  }
  return {
    cluster,
    url,
    relays,
    async close() {
      for (const r of Object.values(relays)) await r.close().catch(() => undefined);
      await cluster.stop();
    },
  };
}
