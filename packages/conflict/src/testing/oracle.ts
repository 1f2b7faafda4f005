import type { CausalContext } from '../causal-context.js';
import { dotKey, type Dot } from '../dot.js';

/**
 * The exact causal-history oracle: every write is its dot plus the set of dots it had seen.
 * A replica's live siblings are the received writes whose dot no other received write has
 * seen; its context is every received write's dot and everything those writes had seen.
 */
export interface OracleWrite<P = unknown> {
  readonly dot: Dot;
  readonly seen: ReadonlySet<string>;
  readonly payload: P;
}

export class OracleReplica<P = unknown> {
  readonly received = new Map<string, OracleWrite<P>>();

  receive(write: OracleWrite<P>): void {
    this.received.set(dotKey(write.dot), write);
  }

  receiveAll(other: OracleReplica<P>): void {
    for (const write of other.received.values()) this.receive(write);
  }

  clear(): void {
    this.received.clear();
  }

  /** Keys of the dots this replica has seen. */
  context(): Set<string> {
    const out = new Set<string>();
    for (const [key, write] of this.received) {
      out.add(key);
      for (const seen of write.seen) out.add(seen);
    }
    return out;
  }

  live(): OracleWrite<P>[] {
    const superseded = new Set<string>();
    for (const write of this.received.values()) for (const seen of write.seen) superseded.add(seen);
    return [...this.received].filter(([key]) => !superseded.has(key)).map(([, write]) => write);
  }
}

/** Every dot of a context as a key (for tests: expands the vector, so keep counters small). */
export function contextDotKeys(ctx: CausalContext): Set<string> {
  const out = new Set<string>();
  for (const [replica, counter] of ctx.vv) for (let n = 1; n <= counter; n++) out.add(`${replica}:${n}`);
  for (const dot of ctx.cloud) out.add(dotKey(dot));
  return out;
}
