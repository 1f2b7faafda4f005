import { ConvergeError } from '@converge/conflict';
import { GuardedTx } from './guarded-tx.js';
import type { StoreTx } from './relay-store.js';
import { STORE_ARGUMENTS, type CheckedOperation } from './store-arguments.js';
import type { EngineTx } from './tx-writes.js';

export interface StoreLifecycleOptions {
  /** Turns the engine's own errors into `ConvergeError`s. */
  readonly translate?: (error: unknown) => unknown;
  /**
   * An engine in the relay's process (SQLite, memory): its transaction answers at once, so
   * transactions offer `StoreTx.direct`, and they run one at a time (a transaction waits for
   * the one before to end).
   */
  readonly inProcess?: boolean;
}

/**
 * What every store does the same way: checking the arguments of every call, refusing calls
 * after `close()`, running a transaction callback by the contract of `RelayStore.transact`
 * (in-process engines one at a time, with `direct`), waiting for running transactions on `close()`, and
 * turning the engine's own errors into `ConvergeError`s (`translate`, applied to errors from
 * the store's methods and from commit, never to errors the callback throws itself).
 */
export class StoreLifecycle {
  readonly #label: string;
  readonly #translate: (error: unknown) => unknown;
  readonly #inProcess: boolean;
  /** Transactions begun and not yet ended (waiting for their turn included). */
  readonly #running = new Set<Promise<unknown>>();
  /** The end of the last transaction queued (serial engines). */
  #tail: Promise<unknown> = Promise.resolve();
  #state: 'open' | 'closing' | 'closed' = 'open';

  constructor(label: string, options: StoreLifecycleOptions = {}) {
    this.#label = label;
    this.#translate = options.translate ?? ((error) => error);
    this.#inProcess = options.inProcess ?? false;
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
    const run = this.#inProcess ? this.#tail.then(() => this.#transactNow(fn, atomically)) : this.#transactNow(fn, atomically);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    if (this.#inProcess) this.#tail = settled;
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    return run;
  }

  async #transactNow<T>(fn: (tx: StoreTx) => Promise<T> | T, atomically: (body: (inner: EngineTx) => Promise<T>) => Promise<T>): Promise<T> {
    if (this.#state === 'closed') this.check('transact');
    // What the callback's latest run threw (an engine may run it again, on another connection).
    let thrown: { readonly error: unknown } | undefined;
    try {
      return await atomically(async (inner) => {
        const tx = new GuardedTx(inner, this.#translate, this.#inProcess);
        let result: T;
        try {
          result = await fn(tx);
        } catch (error) {
          thrown = { error };
          throw error;
        } finally {
          tx.end();
        }
        const failure = tx.failure;
        if (failure !== undefined) {
          thrown = failure;
          throw failure.error;
        }
        return result;
      });
    } catch (error) {
      // An error from the callback (or one a tx method already translated) passes as is; an
      // error from beginning or committing the transaction is the engine's — also when an
      // earlier run of the callback failed and the engine's retry then failed on its own.
      throw thrown !== undefined && thrown.error === error ? error : this.#translate(error);
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
