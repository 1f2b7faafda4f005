import { ConvergeError, type Dot, type ReplicaId } from '@converge/conflict';
import type { Decision, LogPosition, Prefetch, StoreTx, StoredDoc, WriteHead } from './relay-store.js';
import { STORE_ARGUMENTS, type CheckedOperation } from './store-arguments.js';
import type { EngineTx } from './tx-writes.js';

/**
 * The `StoreTx` handed to `transact`'s callback: checks arguments, forwards to the engine's
 * transaction, remembers the first error any method raised (so the transaction is doomed even
 * if the callback caught it), and refuses every call once the callback has ended. Answers the
 * engine gives at once come back as resolved promises: one promise per call, nothing more.
 */
class GuardedTx implements StoreTx {
  readonly #inner: EngineTx;
  readonly #translate: (error: unknown) => unknown;
  #ended = false;
  #failure: { readonly error: unknown } | undefined;

  constructor(inner: EngineTx, translate: (error: unknown) => unknown) {
    this.#inner = inner;
    this.#translate = translate;
  }

  get failure(): { readonly error: unknown } | undefined {
    return this.#failure;
  }

  end(): void {
    this.#ended = true;
  }

  #endedError(): Promise<never> {
    return Promise.reject(new ConvergeError('internal', 'this transaction has ended: use a StoreTx only inside its transact() callback'));
  }

  #fail(caught: unknown): unknown {
    const error = this.#translate(caught);
    this.#failure ??= { error };
    return error;
  }

  #settle<R>(result: R | Promise<R>): Promise<R> {
    if (result instanceof Promise) {
      return result.then(undefined, (caught: unknown) => {
        throw this.#fail(caught);
      });
    }
    return Promise.resolve(result);
  }

  #run<Op extends CheckedOperation, R>(name: Op, args: Parameters<(typeof STORE_ARGUMENTS)[Op]>, operation: () => R | Promise<R>): Promise<R> {
    if (this.#ended) return this.#endedError();
    try {
      (STORE_ARGUMENTS[name] as (...values: unknown[]) => void)(...args);
      return this.#settle(operation());
    } catch (caught) {
      return Promise.reject(this.#fail(caught));
    }
  }

  // `get` and `put` run once per pushed change: written out, without the closure and argument
  // array of `#run`.
  get(collection: string, key: string): Promise<StoredDoc | undefined> {
    if (this.#ended) return this.#endedError();
    try {
      STORE_ARGUMENTS.get(collection, key);
      return this.#settle(this.#inner.get(collection, key));
    } catch (caught) {
      return Promise.reject(this.#fail(caught));
    }
  }
  put(collection: string, key: string, state: string, dot: Dot): Promise<LogPosition> {
    if (this.#ended) return this.#endedError();
    try {
      STORE_ARGUMENTS.put(collection, key, state, dot);
      return this.#settle(this.#inner.put(collection, key, state, dot));
    } catch (caught) {
      return Promise.reject(this.#fail(caught));
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

export interface StoreLifecycleOptions {
  /** Turns the engine's own errors into `ConvergeError`s. */
  readonly translate?: (error: unknown) => unknown;
  /** One transaction at a time (in-process engines): a transaction waits for the one before to end. */
  readonly serial?: boolean;
}

/**
 * What every store does the same way: checking the arguments of every call, refusing calls
 * after `close()`, running a transaction callback by the contract of `RelayStore.transact`
 * (in-process engines one at a time), waiting for running transactions on `close()`, and
 * turning the engine's own errors into `ConvergeError`s (`translate`, applied to errors from
 * the store's methods and from commit, never to errors the callback throws itself).
 */
export class StoreLifecycle {
  readonly #label: string;
  readonly #translate: (error: unknown) => unknown;
  readonly #serial: boolean;
  /** Transactions begun and not yet ended (waiting for their turn included). */
  readonly #running = new Set<Promise<unknown>>();
  /** The end of the last transaction queued (serial engines). */
  #tail: Promise<unknown> = Promise.resolve();
  #state: 'open' | 'closing' | 'closed' = 'open';

  constructor(label: string, options: StoreLifecycleOptions = {}) {
    this.#label = label;
    this.#translate = options.translate ?? ((error) => error);
    this.#serial = options.serial ?? false;
  }

  get closed(): boolean {
    return this.#state !== 'open';
  }

  /** Throws unless the store is open. */
  check(operation: string): void {
    if (this.#state !== 'open') {
      throw new ConvergeError('internal', `${this.#label} is closed: ${operation}() is no longer possible`);
    }
  }

  /** Runs a read outside transactions, its arguments checked first (`STORE_ARGUMENTS`). */
  run<Op extends CheckedOperation, R>(operation: Op, args: Parameters<(typeof STORE_ARGUMENTS)[Op]>, body: () => R | Promise<R>): Promise<R> {
    try {
      this.check(operation);
      (STORE_ARGUMENTS[operation] as (...values: unknown[]) => void)(...args);
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      const result = body();
      if (result instanceof Promise) {
        return result.then(undefined, (error: unknown) => {
          throw this.#translate(error);
        });
      }
      return Promise.resolve(result);
    } catch (error) {
      return Promise.reject(this.#translate(error));
    }
  }

  /**
   * Runs `fn` inside `atomically`, which hands its body the engine's transaction and must keep
   * every write of the body or, when the body rejects, none.
   */
  transact<T>(fn: (tx: StoreTx) => Promise<T> | T, atomically: (body: (inner: EngineTx) => Promise<T>) => Promise<T>): Promise<T> {
    try {
      this.check('transact');
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.#serial ? this.#tail.then(() => this.#transactNow(fn, atomically)) : this.#transactNow(fn, atomically);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    if (this.#serial) this.#tail = settled;
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    return run;
  }

  async #transactNow<T>(fn: (tx: StoreTx) => Promise<T> | T, atomically: (body: (inner: EngineTx) => Promise<T>) => Promise<T>): Promise<T> {
    if (this.#state === 'closed') this.check('transact');
    let bodyFailed = false;
    try {
      return await atomically(async (inner) => {
        const tx = new GuardedTx(inner, this.#translate);
        let result: T;
        try {
          result = await fn(tx);
        } catch (error) {
          bodyFailed = true;
          throw error;
        } finally {
          tx.end();
        }
        const failure = tx.failure;
        if (failure !== undefined) {
          bodyFailed = true;
          throw failure.error;
        }
        return result;
      });
    } catch (error) {
      // An error from the callback (or one a tx method already translated) passes as is; an
      // error from beginning or committing the transaction is the engine's.
      throw bodyFailed ? error : this.#translate(error);
    }
  }

  /** Waits for running transactions, then runs `release` once; later calls resolve at once. */
  async close(release: () => void | Promise<void>): Promise<void> {
    if (this.#state !== 'open') return this.#closed;
    this.#state = 'closing';
    this.#closed = (async () => {
      while (this.#running.size > 0) await Promise.all(this.#running);
      try {
        await release();
      } catch (error) {
        throw this.#translate(error);
      } finally {
        this.#state = 'closed';
      }
    })();
    return this.#closed;
  }

  #closed: Promise<void> = Promise.resolve();
}
