import { emptyDocState, type Dot } from '@converge/conflict';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FanOut, type FanOutStore, type LiveRound } from './fan-out.js';
import type { CommittedChange } from './push.js';
import { serializeState } from './stored-state.js';
import { CHAIN_HASH_ZERO, chainHash } from './store/chain-hash.js';
import type { LoggedDoc, RemoteCommit } from './store/relay-store.js';

const C = 'notes';
/** Every change stores the same (valid) state: only the log's order and hashes matter here. */
const STATE = serializeState(emptyDocState());

/** One collection's log, as a shared store (another relay process, a failover) would change it under a relay. */
class SharedLog implements FanOutStore {
  readonly closed = false;
  docs: LoggedDoc[] = [];
  notice: ((commit: RemoteCommit | undefined) => void) | undefined;
  /** Reads from a standby: it shows the log only up to this seq (undefined: all of it). */
  shownUpTo: number | undefined;

  /** Appends a change and returns it as the relay that committed it hands it to fan-out. */
  append(key: string, dot: Dot): CommittedChange {
    const seq = this.docs.length + 1;
    const hash = chainHash(this.docs.at(-1)?.hash ?? CHAIN_HASH_ZERO, C, key, dot);
    this.docs.push({ key, seq, hash, state: STATE });
    return { collection: C, key, seq, hash, dot, text: STATE, bytes: STATE.length };
  }

  /** A failover to a node that has only the first `seq` changes: the same log up to there, then nothing. */
  failOverTo(seq: number): void {
    this.docs = this.docs.slice(0, seq);
  }

  private shown(): LoggedDoc[] {
    return this.shownUpTo === undefined ? this.docs : this.docs.slice(0, this.shownUpTo);
  }
  head(): Promise<{ seq: number; hash: string }> {
    const last = this.shown().at(-1);
    return Promise.resolve({ seq: last?.seq ?? 0, hash: last?.hash ?? CHAIN_HASH_ZERO });
  }
  hashAt(_collection: string, seq: number): Promise<string | undefined> {
    return Promise.resolve(seq === 0 ? CHAIN_HASH_ZERO : this.shown()[seq - 1]?.hash);
  }
  scan(_collection: string, after: number, limit: number): Promise<LoggedDoc[]> {
    return Promise.resolve(
      this.shown()
        .filter((doc) => doc.seq > after)
        .slice(0, limit),
    );
  }
  watchCommits(listener: (commit: RemoteCommit | undefined) => void): () => void {
    this.notice = listener;
    return () => (this.notice = undefined);
  }
}

/** The fan-out over a shared log, with what it handed out (keys in order) and the forks it reported. */
function relayOver(log: SharedLog, readsLag = false) {
  const handedOut: string[] = [];
  const forks: string[] = [];
  const receiver = { deliverLive: (round: LiveRound) => handedOut.push(...(round.changes.get(C) ?? []).map((change) => change.key)) };
  const fanOut = new FanOut(log, [receiver], {
    batchSize: 100,
    headCheckMs: 3_600_000, // the periodic check must not be what finds anything here
    log: pino({ level: 'silent' }),
    onFork: (collection) => forks.push(collection),
    readsLag,
  });
  return { fanOut, handedOut, forks };
}

/** Every round the fan-out started has run: the scripted store answers at once, so a few turns of the event loop drain it. */
async function drained(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

const mine = (counter: number): Dot => ['relayR', counter];
const theirs = (counter: number): Dot => ['relayS', counter];

/** A relay live from seq 0 that committed and handed out `count` changes of its own (`${prefix}1` …), from a standby showing nothing yet when `readsLag`. */
async function handedOutOwn(count: number, prefix: string, readsLag = false) {
  const log = new SharedLog();
  if (readsLag) log.shownUpTo = 0;
  const relay = relayOver(log, readsLag);
  relay.fanOut.goLive(C, 0, CHAIN_HASH_ZERO);
  relay.fanOut.add(Array.from({ length: count }, (_, i) => log.append(`${prefix}${i + 1}`, mine(i + 1))));
  await drained();
  return { log, ...relay };
}

describe('fan-out over a shared log', () => {
  it("hands out this relay's commits and other processes' commits in seq order, each once, and sees no fork where there is none", async () => {
    const log = new SharedLog();
    const { fanOut, handedOut, forks } = relayOver(log);
    expect(fanOut.goLive(C, 0, CHAIN_HASH_ZERO)).toBe(true);
    fanOut.add([log.append('a', mine(1)), log.append('b', mine(2))]);
    log.append('c', theirs(1));
    log.append('d', theirs(2));
    log.notice?.({ collection: C, seq: 4 });
    await drained();
    fanOut.add([log.append('e', mine(3))]);
    await drained();
    // Another process commits, then this relay does before the notice arrives: read back in order.
    log.append('f', theirs(3));
    fanOut.add([log.append('g', mine(4))]);
    log.notice?.({ collection: C, seq: 6 });
    await drained();
    expect(handedOut).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(forks).toEqual([]);
    fanOut.close();
  });

  it('a failover lost commits already handed out and the new primary reused their seqs: a notice past them is a fork, not a continuation', async () => {
    const { log, fanOut, handedOut, forks } = await handedOutOwn(5, 'old');
    // The promoted standby had only 3; another relay commits 4', 5', 6', 7' on it.
    log.failOverTo(3);
    for (let n = 1; n <= 4; n++) log.append(`new${n}`, theirs(n));
    log.notice?.({ collection: C, seq: 7 });
    await drained();
    // Handing out 6' and 7' as if they followed 5 would move every subscriber's cursor onto the
    // new log past 4' and 5', which they would then never get.
    expect(handedOut).toEqual(['old1', 'old2', 'old3', 'old4', 'old5']);
    expect(forks).toEqual([C]);
    fanOut.close();
  });

  it("a failover lost commits already handed out: this relay's own next commit, one seq past them on the new log, is a fork, not a continuation", async () => {
    const { log, fanOut, handedOut, forks } = await handedOutOwn(5, 'old');
    log.failOverTo(3);
    log.append('new1', theirs(1));
    log.append('new2', theirs(2));
    fanOut.add([log.append('new3', mine(6))]); // seq 6: right after the 5 handed out, on another log
    await drained();
    expect(handedOut).toEqual(['old1', 'old2', 'old3', 'old4', 'old5']);
    expect(forks).toEqual([C]);
    fanOut.close();
  });

  it("reading from a standby that lags this relay's own commits: no fork while it lags, the commits after them once it shows them, a fork once it shows another log", async () => {
    const { log, fanOut, handedOut, forks } = await handedOutOwn(3, 'own', true);
    // Another relay commits 4; this relay's own 5 comes before anything shows 4, so it is read back.
    log.append('theirs4', theirs(1));
    fanOut.add([log.append('own5', mine(4))]);
    log.notice?.(undefined); // the head check: the standby is below what went out
    await drained();
    expect(handedOut).toEqual(['own1', 'own2', 'own3']);
    expect(forks).toEqual([]);
    log.shownUpTo = 5;
    log.notice?.({ collection: C, seq: 5 });
    await drained();
    expect(handedOut).toEqual(['own1', 'own2', 'own3', 'theirs4', 'own5']);
    // A failover to a node that had 3: another relay's 4', 5', 6' follow there.
    log.failOverTo(3);
    log.shownUpTo = undefined;
    for (let n = 2; n <= 4; n++) log.append(`new${n}`, theirs(n));
    log.notice?.({ collection: C, seq: 6 });
    await drained();
    expect(handedOut).toHaveLength(5);
    expect(forks).toEqual([C]);
    fanOut.close();
  });

  it('a subscription that goes live on the new log after a fork sets the position again: what follows is handed out', async () => {
    const { log, fanOut, handedOut, forks } = await handedOutOwn(3, 'old');
    log.failOverTo(1);
    for (let n = 1; n <= 3; n++) log.append(`new${n}`, theirs(n));
    log.notice?.({ collection: C, seq: 4 });
    await drained();
    expect(forks).toEqual([C]);
    const head = await log.head();
    expect(fanOut.goLive(C, head.seq, head.hash)).toBe(true);
    fanOut.add([log.append('after', mine(4))]);
    await drained();
    expect(handedOut).toEqual(['old1', 'old2', 'old3', 'after']);
    fanOut.close();
  });
});
