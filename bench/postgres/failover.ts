// Failover time: protocol-level writers push blind writes at `quorum` (one in flight each)
// through a relay CLI whose --store lists every node of the cluster
// (`target_session_attrs=read-write&connect_timeout=2`); the primary gets SIGKILL, the most
// up-to-date standby is promoted as an HA tool would (pg-cluster.ts), and the time is taken from
// the kill to the first `confirm {level: quorum}` of a push sent after the kill. A writer whose
// push meets an error or a closed connection reconnects and re-sends the same change (pushes are
// idempotent by dot). Between rounds the killed node rejoins as a standby (pg_rewind), so each
// round kills the primary of the one before.
import type { PgCluster } from '@converge/sync-server/testing';
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
      if (frame.type === 'error') return done({ kind: 'retry', at });
      if (frame.id !== id) return;
      if (frame.type === 'ack' && frame.results?.some((r) => r.status !== 'accepted')) return done({ kind: 'retry', at });
      if (frame.type !== 'confirm') return;
      if (frame.code === 'quorum_unavailable') done({ kind: 'unavailable', at });
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

export async function runFailover(
  cluster: PgCluster,
  relayUrl: string,
  options: { readonly rounds: number; readonly writers: number; readonly log: (line: string) => void },
): Promise<FailoverRound[]> {
  const out: FailoverRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    let killAt = Infinity;
    let firstQuorumAt = Infinity;
    let confirmed = 0;
    let resent = 0;
    let stop = false;
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
    const writing = Array.from({ length: options.writers }, (_, w) => writer(w));
    await sleep(500);
    const old = cluster.primary;
    killAt = nowMs();
    await cluster.kill(old, 'SIGKILL');
    const promotion = await cluster.promoteMostUpToDate();
    const promotedMs = nowMs() - killAt;
    while (firstQuorumAt === Infinity && Date.now() < hardStop) await sleep(20);
    stop = true;
    await Promise.all(writing);
    if (firstQuorumAt === Infinity) throw new Error(`failover round ${round}: no quorum confirm within 60 s of the kill`);
    const row = { round, killed: old.name, promoted: promotion.node.name, promotedMs, firstQuorumMs: firstQuorumAt - killAt, confirmed, resent };
    options.log(
      `failover round ${round}: killed ${row.killed}, promoted ${row.promoted} at ${promotedMs.toFixed(0)} ms, first quorum ack at ${row.firstQuorumMs.toFixed(0)} ms (${confirmed} confirmed, ${resent} re-sent)`,
    );
    out.push(row);
    await cluster.rejoinAsStandby(old);
  }
  return out;
}
