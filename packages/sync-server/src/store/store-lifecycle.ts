import { ConvergeError, type Dot, type ReplicaId } from '@converge/conflict';
import type { Decision, LogPosition, StoreTx, StoredDoc, WriteHead } from './relay-store.js';
import { STORE_ARGUMENTS, type CheckedOperation } from './store-arguments.js';

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

  #checkOpen(): void {
    if (this.#ended) {
      throw new ConvergeError('internal', 'this transaction has ended: use a StoreTx only inside its transact() callback');
    }
  }

  #run<Op extends CheckedOperation, R>(name: Op, args: Parameters<(typeof STORE_ARGUMENTS)[Op]>, operation: () => R): R {
    this.#checkOpen();
    try {
      (STORE_ARGUMENTS[name] as (...values: unknown[]) => void)(...args);
      return operation();
    } catch (caught) {
      throw this.#fail(caught);
    }
  }

  #fail(caught: unknown): unknown {
    const error = this.#translate(caught);
    this.#failure ??= { error };
    return error;
  }

  // `get` and `put` run once per pushed change: written out, without the closure and argument
  // array of `#run`.
  get(collection: string, key: string): StoredDoc | undefined {
    this.#checkOpen();
    try {
      STORE_ARGUMENTS.get(collection, key);
      return this.#inner.get(collection, key);
    } catch (caught) {
      throw this.#fail(caught);
    }
  }
  prefetch(collection: string, keys: readonly string[]): void {
    this.#run('prefetch', [collection, keys], () => this.#inner.prefetch?.(collection, keys));
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
  put(collection: string, key: string, state: string, dot: Dot): LogPosition {
    this.#checkOpen();
    try {
      STORE_ARGUMENTS.put(collection, key, state, dot);
      return this.#inner.put(collection, key, state, dot);
    } catch (caught) {
      throw this.#fail(caught);
    }
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

function isThenable(value: unknown): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * What every store does the same way: checking the arguments of every call, refusing calls
 * after `close()` and inside a transaction, running a transaction callback by the contract of `RelayStore.transact`, and
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

  /** Runs a read outside transactions, its arguments checked first (`STORE_ARGUMENTS`). */
  run<Op extends CheckedOperation, R>(operation: Op, args: Parameters<(typeof STORE_ARGUMENTS)[Op]>, body: () => R): R {
    this.check(operation);
    (STORE_ARGUMENTS[operation] as (...values: unknown[]) => void)(...args);
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
