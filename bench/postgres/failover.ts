// Failover time: protocol-level writers push blind writes at `quorum` (one in flight each)
// through a relay CLI whose --store lists every node of the cluster
// (`target_session_attrs=read-write&connect_timeout=2`); the primary gets SIGKILL, the most
// up-to-date standby is promoted as an HA tool would (pg-cluster.ts), and the time is taken from
// the kill to the first `confirm {level: quorum}` of a push sent after the kill. A writer whose
// push meets an error or a closed connection reconnects and re-sends the same change (pushes are
// idempotent by dot). Each round has a cluster and a relay of its own.
import { join } from 'node:path';
import { startPgCluster, type PgCluster } from '@converge/sync-server/testing';
import { startRelay } from '../relay/relay-process.js';
import { encodeFrame, encodeValue } from '@converge/protocol';
import type { PushedChange } from '@converge/protocol';
import { blindChange, cartValue, newReplicaId, nowMs, sleep, WireClient, type Envelope } from '../relay/wire.js';

export interface FailoverRound {
  readonly round: number;
  readonly killed: string;
  readonly promoted: string;
  /** Kill → `pg_promote()` done (the harness's ranking and promotion; an HA tool's detection time is not in it). */
  readonly promotedMs: number;
  /** Kill → the first quorum confirm of a push sent after the kill. */
  readonly firstQuorumMs: number;
  /** Quorum confirms over the round, and pushes re-sent after an error or a closed connection. */
  readonly confirmed: number;
  readonly resent: number;
}

interface Answer {
  readonly kind: 'quorum' | 'unavailable' | 'retry';
  readonly at: number;
  readonly detail?: string;
}

/** One push at quorum on `client`; resolves with how it ended (never rejects). */
function pushQuorum(client: WireClient, id: string, change: PushedChange, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'retry', at: nowMs() }), timeoutMs);
    const done = (answer: Answer) => {
      clearTimeout(timer);
      resolve(answer);
    };
    client.onFrame = (text, at) => {
      const frame = JSON.parse(text) as Envelope & { level?: string };
      if (frame.type === 'error') return done({ kind: 'retry', at, detail: text.slice(0, 300) });
      if (frame.id !== id) return;
      if (frame.type === 'ack' && frame.results?.some((r) => r.status !== 'accepted')) return done({ kind: 'retry', at });
      if (frame.type !== 'confirm') return;
      if (frame.code === 'quorum_unavailable') done({ kind: 'unavailable', at, detail: text.slice(0, 300) });
      else if (frame.level === 'quorum' && frame.code === undefined) done({ kind: 'quorum', at });
    };
    void client.closed.then(() => done({ kind: 'retry', at: nowMs() }));
    client.send(encodeFrame({ type: 'push', id, ack: 'quorum', changes: [change] }));
  });
}

async function connect(url: string, replica: ReturnType<typeof newReplicaId>, until: number): Promise<WireClient | undefined> {
  while (Date.now() < until) {
    try {
      const client = await WireClient.open(url, 2_000);
      await client.hello(replica, [], 5_000);
      return client;
    } catch {
      await sleep(50);
    }
  }
  return undefined;
}

export interface FailoverOptions {
  readonly rounds: number;
  readonly writers: number;
  readonly log: (line: string) => void;
  /** Hears each round as it finishes (the rounds before a failure are kept). */
  readonly done?: (round: FailoverRound) => void;
  /** The relay's storage --config file goes in this directory. */
  readonly dir: string;
}

/**
 * `rounds` rounds, each on a fresh cluster (primary + 2 standbys under `ANY 1`) with a fresh
 * relay CLI on it: a node rewound back in after a failover (`rejoinAsStandby`) could be left on
 * the old timeline past the fork point and never stream from the next primary (seen here), so
 * rounds do not reuse one.
 */
export async function runFailover(options: FailoverOptions): Promise<FailoverRound[]> {
  const out: FailoverRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const cluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1' });
    try {
      const relay = await startRelay({
        db: join(options.dir, 'failover.db'),
        kind: 'unlimited',
        store: { url: cluster.multiHostUrl(), schema: 'bench_failover' },
      });
      try {
        const row = await failoverRound(cluster, relay.url, round, options.writers);
        options.log(
          `failover round ${round}: killed ${row.killed}, promoted ${row.promoted} at ${row.promotedMs.toFixed(0)} ms, first quorum ack at ${row.firstQuorumMs.toFixed(0)} ms (${row.confirmed} confirmed, ${row.resent} re-sent)`,
        );
        out.push(row);
        options.done?.(row);
      } finally {
        await relay.stop();
      }
    } finally {
      await cluster.stop();
    }
  }
  return out;
}

async function failoverRound(cluster: PgCluster, relayUrl: string, round: number, writers: number): Promise<FailoverRound> {
  let killAt = Infinity;
  let firstQuorumAt = Infinity;
  let confirmed = 0;
  let resent = 0;
  let stop = false;
  /** How pushes sent after the kill ended, and the last error frame seen: the reason when no quorum ack comes. */
  const after: Record<string, number> = {};
  let lastError = '';
  const hardStop = Date.now() + 60_000;
  const writer = async (w: number) => {
    const replica = newReplicaId();
    const value = encodeValue(cartValue(w));
    let client = await connect(relayUrl, replica, hardStop);
    for (let i = 1; client !== undefined && !stop && Date.now() < hardStop; i++) {
      const change = blindChange('failover', `r${round}-w${w}-${i}`, replica, i, value);
      for (let attempt = 0; !stop && Date.now() < hardStop; attempt++) {
        const sentAt = nowMs();
        const answer = await pushQuorum(client, `p${i}-${attempt}`, change, 15_000);
        if (sentAt > killAt) after[answer.kind] = (after[answer.kind] ?? 0) + 1;
        if (answer.detail !== undefined) lastError = answer.detail;
        if (answer.kind === 'quorum') {
          confirmed++;
          if (sentAt > killAt) firstQuorumAt = Math.min(firstQuorumAt, answer.at);
          break;
        }
        if (answer.kind === 'unavailable') break; // accepted at relay only; the next write goes on
        resent++;
        client.close();
        client = await connect(relayUrl, replica, hardStop);
        if (client === undefined) return;
      }
    }
    client?.close();
  };
  const writing = Array.from({ length: writers }, (_, w) => writer(w));
  await sleep(500);
  const old = cluster.primary;
  killAt = nowMs();
  await cluster.kill(old, 'SIGKILL');
  const promoting = nowMs();
  const promotion = await cluster.promoteMostUpToDate();
  const promotedMs = promoting - killAt + promotion.promoteMs;
  while (firstQuorumAt === Infinity && Date.now() < hardStop) await sleep(20);
  stop = true;
  await Promise.all(writing);
  if (firstQuorumAt === Infinity)
    throw new Error(
      `failover round ${round}: no quorum confirm within 60 s of the kill (pushes sent after it: ${JSON.stringify(after)}; last error: ${lastError})`,
    );
  return { round, killed: old.name, promoted: promotion.node.name, promotedMs, firstQuorumMs: firstQuorumAt - killAt, confirmed, resent };
}
