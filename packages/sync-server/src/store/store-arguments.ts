import { ConvergeError, dotProblem, replicaIdProblem, writeChainProblem, type Dot } from '@converge/conflict';
import type { Decision } from './relay-store.js';

// A UTF-16 surrogate with no partner: such a string has no UTF-8 form, so SQLite would store a
// replacement character and the key would silently become another key.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function refuse(path: string, message: string): never {
  throw new ConvergeError('bad_message', message, { path });
}

/** A collection name, key, prefix or meta name: any well-formed string. */
export function checkName(path: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') refuse(path, 'must be a string');
  if (LONE_SURROGATE.test(value)) refuse(path, 'must not contain a lone UTF-16 surrogate');
}

export function checkDot(path: string, value: unknown): asserts value is Dot {
  const problem = dotProblem(value);
  if (problem !== undefined) refuse(path, problem);
}

export function checkReplicaId(path: string, value: unknown): asserts value is string {
  const problem = replicaIdProblem(value);
  if (problem !== undefined) refuse(path, problem);
}

/** A safe integer ≥ `min`. */
export function checkCount(path: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    refuse(path, `must be a safe integer ≥ ${min}`);
  }
}

export function checkDecision(value: unknown): asserts value is Decision {
  if (typeof value !== 'object' || value === null) refuse('decision', 'must be a decision object');
  const decision = value as { status?: unknown; seq?: unknown; content?: unknown };
  if (decision.status === 'accepted') checkCount('decision.seq', decision.seq, 1);
  else if (decision.status !== 'rejected') refuse('decision.status', "must be 'accepted' or 'rejected'");
  if (decision.content !== undefined) checkName('decision.content', decision.content);
}

export function checkMetaValue(value: unknown): asserts value is string | undefined {
  if (value !== undefined) checkName('value', value);
}

export function sameDecision(a: Decision, b: Decision): boolean {
  if (a.status === 'rejected' || b.status === 'rejected') return a.status === b.status;
  return a.seq === b.seq;
}

/** Checks a decision against the one already recorded and against the head; throws on conflict. */
export function checkNewDecision(existing: Decision | undefined, next: Decision, headSeq: number): void {
  if (existing !== undefined && !sameDecision(existing, next)) {
    throw new ConvergeError('internal', `this write was already decided (${existing.status}); a decision is final`);
  }
  if (next.status === 'accepted' && next.seq > headSeq) {
    throw new ConvergeError('internal', `accepted seq ${next.seq} is beyond the collection's head ${headSeq}`);
  }
}

/**
 * The argument checks of every store method, in one place: the shared guard
 * (`StoreLifecycle`) runs them before a call reaches any store, so no store repeats them.
 */
export const STORE_ARGUMENTS = {
  get(collection: unknown, key: unknown): void {
    checkName('collection', collection);
    checkName('key', key);
  },
  head(collection: unknown): void {
    checkName('collection', collection);
  },
  awaitReplica(collection: unknown): void {
    checkName('collection', collection);
  },
  decision(collection: unknown, key: unknown, dot: unknown): void {
    checkName('collection', collection);
    checkName('key', key);
    checkDot('dot', dot);
  },
  writeHead(replicaId: unknown): void {
    checkReplicaId('replicaId', replicaId);
  },
  getMeta(name: unknown): void {
    checkName('name', name);
  },
  replicaOwner(replicaId: unknown): void {
    checkReplicaId('replicaId', replicaId);
  },
  prefetch(reads: unknown): void {
    if (typeof reads !== 'object' || reads === null) refuse('reads', 'must be {docs?, decisions?, writeHeads?}');
    const { docs, decisions, writeHeads } = reads as { docs?: unknown; decisions?: unknown; writeHeads?: unknown };
    if (docs !== undefined) {
      if (!(docs instanceof Map)) refuse('reads.docs', 'must be a Map of collection to keys');
      for (const [collection, keys] of docs as Map<unknown, unknown>) {
        checkName('reads.docs', collection);
        if (!Array.isArray(keys)) refuse('reads.docs', 'must map each collection to an array of keys');
        for (const key of keys) checkName('reads.docs', key);
      }
    }
    if (decisions !== undefined) {
      if (!Array.isArray(decisions)) refuse('reads.decisions', 'must be an array of {collection, key, dot}');
      for (const ref of decisions as unknown[]) {
        const { collection, key, dot } = (typeof ref === 'object' && ref !== null ? ref : {}) as { collection?: unknown; key?: unknown; dot?: unknown };
        STORE_ARGUMENTS.decision(collection, key, dot);
      }
    }
    if (writeHeads !== undefined) {
      if (!Array.isArray(writeHeads)) refuse('reads.writeHeads', 'must be an array of replica ids');
      for (const id of writeHeads as unknown[]) checkReplicaId('reads.writeHeads', id);
    }
  },
  put(collection: unknown, key: unknown, state: unknown, dot: unknown): void {
    checkName('collection', collection);
    checkName('key', key);
    checkName('state', state);
    checkDot('dot', dot);
  },
  recordDecision(collection: unknown, key: unknown, dot: unknown, decision: unknown): void {
    STORE_ARGUMENTS.decision(collection, key, dot);
    checkDecision(decision);
  },
  noteWrite(replicaId: unknown, head: unknown): void {
    checkReplicaId('replicaId', replicaId);
    if (typeof head !== 'object' || head === null) refuse('head', 'must be {writeNumber, chain}');
    const { writeNumber, chain } = head as { writeNumber?: unknown; chain?: unknown };
    checkCount('head.writeNumber', writeNumber, 0);
    const problem = writeChainProblem(chain);
    if (problem !== undefined) refuse('head.chain', problem);
  },
  setMeta(name: unknown, value: unknown): void {
    checkName('name', name);
    checkMetaValue(value);
  },
  claimReplica(replicaId: unknown, principalId: unknown): void {
    checkReplicaId('replicaId', replicaId);
    checkName('principalId', principalId);
  },
  scan(collection: unknown, afterSeq: unknown, limit: unknown, prefix?: unknown): void {
    checkName('collection', collection);
    checkCount('afterSeq', afterSeq, 0);
    checkCount('limit', limit, 1);
    if (prefix !== undefined) checkName('prefix', prefix);
  },
  hashAt(collection: unknown, seq: unknown): void {
    checkName('collection', collection);
    checkCount('seq', seq, 0);
  },
  collections(): void {},
  stats(): void {},
  info(): void {},
};

export type CheckedOperation = keyof typeof STORE_ARGUMENTS;
