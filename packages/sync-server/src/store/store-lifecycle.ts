import { ConvergeError, type Dot, type ReplicaId } from '@converge/conflict';
import type { Decision, LogPosition, StoreTx, StoredDoc } from './relay-store.js';

/**
 * The `StoreTx` handed to `transact`'s callback: forwards to the store's own transaction, remembers
 * the first error any method threw (so the transaction can be doomed even if the callback
 * caught it), and refuses every call once the transaction has ended.
 */
class GuardedTx implements StoreTx {
  readonly #inner: StoreTx;
  readonly #translate: (error: unknown) => unknown;
  #ended = false;
  #failure: { readonly error: unknown } | undefined;

  constructor(inner: StoreTx, translate: (error: unknown) => unknown) {
    this.#inner = inner;
    this.#translate = translate;
  }

  get failure(): { readonly error: unknown } | undefined {
    return this.#failure;
  }

  end(): void {
    this.#ended = true;
  }

  #run<R>(operation: () => R): R {
    if (this.#ended) {
      throw new ConvergeError('internal', 'this transaction has ended: use a StoreTx only inside its transact() callback');
    }
    try {
      return operation();
    } catch (caught) {
      const error = this.#translate(caught);
      this.#failure ??= { error };
      throw error;
    }
  }

  get(collection: string, key: string): StoredDoc | undefined {
    return this.#run(() => this.#inner.get(collection, key));
  }
  head(collection: string): LogPosition {
    return this.#run(() => this.#inner.head(collection));
  }
  decision(collection: string, key: string, dot: Dot): Decision | undefined {
    return this.#run(() => this.#inner.decision(collection, key, dot));
  }
  writeNumber(replicaId: ReplicaId): number {
    return this.#run(() => this.#inner.writeNumber(replicaId));
  }
  getMeta(name: string): string | undefined {
    return this.#run(() => this.#inner.getMeta(name));
  }
  replicaOwner(replicaId: ReplicaId): string | undefined {
    return this.#run(() => this.#inner.replicaOwner(replicaId));
  }
  claimReplica(replicaId: ReplicaId, principalId: string): string {
    return this.#run(() => this.#inner.claimReplica(replicaId, principalId));
  }
  put(collection: string, key: string, state: string, dot: Dot): LogPosition {
    return this.#run(() => this.#inner.put(collection, key, state, dot));
  }
  recordDecision(collection: string, key: string, dot: Dot, decision: Decision): void {
    this.#run(() => this.#inner.recordDecision(collection, key, dot, decision));
  }
  noteWriteNumber(replicaId: ReplicaId, n: number): void {
    this.#run(() => this.#inner.noteWriteNumber(replicaId, n));
  }
  setMeta(name: string, value: string | undefined): void {
    this.#run(() => this.#inner.setMeta(name, value));
  }
}

function isThenable(value: unknown): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * What every store does the same way: refusing calls after `close()` and inside a
 * transaction, running a transaction callback by the contract of `RelayStore.transact`, and
 * turning the engine's own errors into `ConvergeError`s (`translate`, applied to errors from
 * the store's methods and from commit, never to errors the callback throws itself).
 */
export class StoreLifecycle {
  readonly #label: string;
  readonly #translate: (error: unknown) => unknown;
  #state: 'open' | 'transacting' | 'closed' = 'open';

  constructor(label: string, translate: (error: unknown) => unknown = (error) => error) {
    this.#label = label;
    this.#translate = translate;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Throws unless the store is open and no transaction is running. */
  check(operation: string): void {
    if (this.#state === 'closed') {
      throw new ConvergeError('internal', `${this.#label} is closed: ${operation}() is no longer possible`);
    }
    if (this.#state === 'transacting') {
      throw new ConvergeError('internal', `${operation}() called inside transact(): use the transaction's own methods`);
    }
  }

  /** Runs a read (or a one-shot write) outside transactions. */
  run<R>(operation: string, body: () => R): R {
    this.check(operation);
    try {
      return body();
    } catch (error) {
      throw this.#translate(error);
    }
  }

  /**
   * Runs `fn` against `inner` inside `atomically`, which must keep every write of its body or,
   * when the body throws, none.
   */
  transact<T>(inner: StoreTx, fn: (tx: StoreTx) => T, atomically: (body: () => T) => T): T {
    this.check('transact');
    const tx = new GuardedTx(inner, this.#translate);
    this.#state = 'transacting';
    let bodyFailed = false;
    try {
      return atomically(() => {
        let result: T;
        try {
          result = fn(tx);
        } catch (error) {
          bodyFailed = true;
          throw error;
        }
        const failure = tx.failure;
        if (failure !== undefined) {
          bodyFailed = true;
          throw failure.error;
        }
        if (isThenable(result)) {
          bodyFailed = true;
          throw new ConvergeError('internal', 'the transact() callback returned a promise: it must be synchronous');
        }
        return result;
      });
    } catch (error) {
      // An error from the callback (or one a tx method already translated) passes as is; an
      // error from beginning or committing the transaction is the engine's.
      throw bodyFailed ? error : this.#translate(error);
    } finally {
      tx.end();
      this.#state = 'open';
    }
  }

  /** Runs `release` once; later calls do nothing. */
  close(release: () => void): void {
    if (this.#state === 'closed') return;
    this.check('close');
    try {
      release();
    } catch (error) {
      throw this.#translate(error);
    }
    this.#state = 'closed';
  }
}
