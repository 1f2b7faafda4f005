import { ConvergeError, type Dot, type ReplicaId } from '@converge/conflict';
import type { Decision, DirectStoreTx, LogPosition, Prefetch, StoreTx, StoredDoc, WriteHead } from './relay-store.js';
import { STORE_ARGUMENTS, type CheckedOperation } from './store-arguments.js';
import type { EngineTx } from './tx-writes.js';

type Arguments<Op extends CheckedOperation> = Parameters<(typeof STORE_ARGUMENTS)[Op]>;

const ended = () => new ConvergeError('internal', 'this transaction has ended: use a StoreTx only inside its transact() callback');

/**
 * The `StoreTx` handed to `transact`'s callback: checks arguments, forwards to the engine's
 * transaction, remembers the first error any method raised (so the transaction is doomed even
 * if the callback caught it), and refuses every call once the callback has ended. Answers the
 * engine gives at once come back as resolved promises: one promise per call, nothing more —
 * or, through `direct` (engines in the relay's process), as they are.
 */
export class GuardedTx implements StoreTx {
  readonly #inner: EngineTx;
  readonly #translate: (error: unknown) => unknown;
  readonly direct: DirectStoreTx | undefined;
  #ended = false;
  #failure: { readonly error: unknown } | undefined;

  constructor(inner: EngineTx, translate: (error: unknown) => unknown, inProcess: boolean) {
    this.#inner = inner;
    this.#translate = translate;
    this.direct = inProcess ? new DirectTx(this, inner) : undefined;
  }

  get failure(): { readonly error: unknown } | undefined {
    return this.#failure;
  }

  end(): void {
    this.#ended = true;
  }

  /** Throws once the callback has ended. */
  enter(): void {
    if (this.#ended) throw ended();
  }

  /** Dooms the transaction with the first error; returns the error as the store reports it. */
  fail(caught: unknown): unknown {
    const error = this.#translate(caught);
    this.#failure ??= { error };
    return error;
  }

  #settle<R>(result: R | Promise<R>): Promise<R> {
    if (result instanceof Promise) {
      return result.then(undefined, (caught: unknown) => {
        throw this.fail(caught);
      });
    }
    return Promise.resolve(result);
  }

  #run<Op extends CheckedOperation, R>(name: Op, args: Arguments<Op>, operation: () => R | Promise<R>): Promise<R> {
    if (this.#ended) return this.#endedError();
    try {
      (STORE_ARGUMENTS[name] as (...values: unknown[]) => void)(...args);
      return this.#settle(operation());
    } catch (caught) {
      return Promise.reject(this.fail(caught));
    }
  }

  #endedError(): Promise<never> {
    return Promise.reject(ended());
  }

  // `get` and `put` run once per pushed change: written out, without the closure and argument
  // array of `#run`.
  get(collection: string, key: string): Promise<StoredDoc | undefined> {
    if (this.#ended) return this.#endedError();
    try {
      STORE_ARGUMENTS.get(collection, key);
      return this.#settle(this.#inner.get(collection, key));
    } catch (caught) {
      return Promise.reject(this.fail(caught));
    }
  }
  put(collection: string, key: string, state: string, dot: Dot): Promise<LogPosition> {
    if (this.#ended) return this.#endedError();
    try {
      STORE_ARGUMENTS.put(collection, key, state, dot);
      return this.#settle(this.#inner.put(collection, key, state, dot));
    } catch (caught) {
      return Promise.reject(this.fail(caught));
    }
  }
  prefetch(reads: Prefetch): Promise<void> {
    return this.#run('prefetch', [reads], () => this.#inner.prefetch(reads));
  }
  head(collection: string): Promise<LogPosition> {
    return this.#run('head', [collection], () => this.#inner.head(collection));
  }
  decision(collection: string, key: string, dot: Dot): Promise<Decision | undefined> {
    return this.#run('decision', [collection, key, dot], () => this.#inner.decision(collection, key, dot));
  }
  writeHead(replicaId: ReplicaId): Promise<WriteHead> {
    return this.#run('writeHead', [replicaId], () => this.#inner.writeHead(replicaId));
  }
  getMeta(name: string): Promise<string | undefined> {
    return this.#run('getMeta', [name], () => this.#inner.getMeta(name));
  }
  replicaOwner(replicaId: ReplicaId): Promise<string | undefined> {
    return this.#run('replicaOwner', [replicaId], () => this.#inner.replicaOwner(replicaId));
  }
  claimReplica(replicaId: ReplicaId, principalId: string): Promise<string> {
    return this.#run('claimReplica', [replicaId, principalId], () => this.#inner.claimReplica(replicaId, principalId));
  }
  recordDecision(collection: string, key: string, dot: Dot, decision: Decision): Promise<void> {
    return this.#run('recordDecision', [collection, key, dot, decision], () => this.#inner.recordDecision(collection, key, dot, decision));
  }
  noteWrite(replicaId: ReplicaId, head: WriteHead): Promise<void> {
    return this.#run('noteWrite', [replicaId, head], () => this.#inner.noteWrite(replicaId, head));
  }
  setMeta(name: string, value: string | undefined): Promise<void> {
    return this.#run('setMeta', [name, value], () => this.#inner.setMeta(name, value));
  }
}

/** An in-process engine's answer, as it is: such an engine never answers with a promise. */
function atOnce<R>(answer: R | Promise<R>): R {
  if (answer instanceof Promise) throw new ConvergeError('internal', 'a store that answers with promises has no direct transaction');
  return answer;
}

/** `GuardedTx.direct`: the same checks and doom, answers returned or thrown at once. */
class DirectTx implements DirectStoreTx {
  readonly #guard: GuardedTx;
  readonly #inner: EngineTx;

  constructor(guard: GuardedTx, inner: EngineTx) {
    this.#guard = guard;
    this.#inner = inner;
  }

  #run<Op extends CheckedOperation, R>(name: Op, args: Arguments<Op>, operation: () => R | Promise<R>): R {
    this.#guard.enter();
    try {
      (STORE_ARGUMENTS[name] as (...values: unknown[]) => void)(...args);
      return atOnce(operation());
    } catch (caught) {
      throw this.#guard.fail(caught);
    }
  }

  // Once per pushed change, written out like `GuardedTx`'s.
  get(collection: string, key: string): StoredDoc | undefined {
    this.#guard.enter();
    try {
      STORE_ARGUMENTS.get(collection, key);
      return atOnce(this.#inner.get(collection, key));
    } catch (caught) {
      throw this.#guard.fail(caught);
    }
  }
  put(collection: string, key: string, state: string, dot: Dot): LogPosition {
    this.#guard.enter();
    try {
      STORE_ARGUMENTS.put(collection, key, state, dot);
      return atOnce(this.#inner.put(collection, key, state, dot));
    } catch (caught) {
      throw this.#guard.fail(caught);
    }
  }
  prefetch(reads: Prefetch): void {
    this.#run('prefetch', [reads], () => this.#inner.prefetch(reads));
  }
  head(collection: string): LogPosition {
    return this.#run('head', [collection], () => this.#inner.head(collection));
  }
  decision(collection: string, key: string, dot: Dot): Decision | undefined {
    return this.#run('decision', [collection, key, dot], () => this.#inner.decision(collection, key, dot));
  }
  writeHead(replicaId: ReplicaId): WriteHead {
    return this.#run('writeHead', [replicaId], () => this.#inner.writeHead(replicaId));
  }
  getMeta(name: string): string | undefined {
    return this.#run('getMeta', [name], () => this.#inner.getMeta(name));
  }
  replicaOwner(replicaId: ReplicaId): string | undefined {
    return this.#run('replicaOwner', [replicaId], () => this.#inner.replicaOwner(replicaId));
  }
  claimReplica(replicaId: ReplicaId, principalId: string): string {
    return this.#run('claimReplica', [replicaId, principalId], () => this.#inner.claimReplica(replicaId, principalId));
  }
  recordDecision(collection: string, key: string, dot: Dot, decision: Decision): void {
    this.#run('recordDecision', [collection, key, dot, decision], () => this.#inner.recordDecision(collection, key, dot, decision));
  }
  noteWrite(replicaId: ReplicaId, head: WriteHead): void {
    this.#run('noteWrite', [replicaId, head], () => this.#inner.noteWrite(replicaId, head));
  }
  setMeta(name: string, value: string | undefined): void {
    this.#run('setMeta', [name, value], () => this.#inner.setMeta(name, value));
  }
}
