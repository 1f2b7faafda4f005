import type { Dot, ReplicaId } from '@converge/conflict';
import { chainHash } from './chain-hash.js';
import type { Decision, DecisionRef, LogPosition, StoreTx, WriteHead } from './relay-store.js';

/** A `StoreTx` as an engine implements it: each method may answer at once or with a promise. */
export type EngineTx = {
  [K in Exclude<keyof StoreTx, 'direct'>]-?: StoreTx[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R | Promise<R> : never;
};

/** A key's state as the running transaction last wrote it: also the link of the chain its change made. */
export interface PendingDoc extends ChainLink {
  readonly state: string;
}

/** A collection's head as the running transaction moved it, with the keys it added. */
export interface MovedHead {
  seq: number;
  hash: string;
  addedKeys: number;
}

export interface ChainLink {
  readonly collection: string;
  readonly seq: number;
  /** The chain hash through `seq`. */
  readonly hash: string;
}

export function decisionId(collection: string, key: string, dot: Dot): string {
  return JSON.stringify([collection, key, dot[0], dot[1]]);
}

/**
 * Everything one transaction wrote, held in memory until it commits: every store writes it to
 * its engine in one go at commit (SQLite in one synchronous transaction, PostgreSQL in one
 * round trip), and drops it on rollback. Outside the transaction nobody sees it; the
 * transaction's own reads look here first. A key written twice keeps only its last state (it
 * appears in the log once, at its last seq).
 */
export class TxWrites {
  readonly docs = new Map<string, Map<string, PendingDoc>>();
  /** Every seq the transaction assigned, in order (a key's last one is also its doc in `docs`). */
  readonly chain: ChainLink[] = [];
  readonly heads = new Map<string, MovedHead>();
  readonly decisions = new Map<string, DecisionRef & { readonly decision: Decision }>();
  readonly writeHeads = new Map<ReplicaId, WriteHead>();
  /** `undefined`: removed. */
  readonly meta = new Map<string, string | undefined>();
  readonly owners = new Map<ReplicaId, string>();

  doc(collection: string, key: string): PendingDoc | undefined {
    return this.docs.get(collection)?.get(key);
  }

  /**
   * The key's next change: `previous` is the collection's head before it (as this transaction
   * sees it), `added` whether the key is new to the collection.
   */
  put(collection: string, key: string, state: string, dot: Dot, previous: LogPosition, added: boolean): LogPosition {
    const seq = previous.seq + 1;
    const hash = chainHash(previous.hash, collection, key, dot);
    let docs = this.docs.get(collection);
    if (docs === undefined) this.docs.set(collection, (docs = new Map()));
    // One object per change: the doc as written, and the chain's link.
    const doc: PendingDoc = { collection, seq, hash, state };
    docs.set(key, doc);
    this.chain.push(doc);
    const moved = this.heads.get(collection);
    if (moved === undefined) this.heads.set(collection, { seq, hash, addedKeys: added ? 1 : 0 });
    else {
      moved.seq = seq;
      moved.hash = hash;
      if (added) moved.addedKeys++;
    }
    return { seq, hash };
  }

  decision(collection: string, key: string, dot: Dot): Decision | undefined {
    return this.decisions.get(decisionId(collection, key, dot))?.decision;
  }

  recordDecision(collection: string, key: string, dot: Dot, decision: Decision): void {
    const content = decision.content === undefined ? {} : { content: decision.content };
    const kept: Decision = decision.status === 'accepted' ? { status: 'accepted', seq: decision.seq, ...content } : { status: 'rejected', ...content };
    this.decisions.set(decisionId(collection, key, dot), { collection, key, dot: [dot[0], dot[1]], decision: kept });
  }

  get empty(): boolean {
    return this.chain.length === 0 && this.decisions.size === 0 && this.writeHeads.size === 0 && this.meta.size === 0 && this.owners.size === 0;
  }
}
