import { ConvergeError } from '@converge/conflict';
import type { TabCoordinator } from './tab-coordinator.js';
import type { ErrorInfo } from './tab-messages.js';

/** A follower tab's leader reads: asked of the tab holding the socket, answered over the channel. */
export class FollowerReads {
  readonly #waiting = new Map<string, { resolve(): void; reject(error: Error): void }>();
  #count = 0;

  readonly #tabs: TabCoordinator;
  readonly #prefix: () => string;

  constructor(tabs: TabCoordinator, prefix: () => string) {
    this.#tabs = tabs;
    this.#prefix = prefix;
  }

  /** Resolves once the leader merged the relay's state of `keys` into the shared database. */
  read(collection: string, keys: readonly string[], timeoutMs: number): Promise<void> {
    const id = `${this.#prefix()}:${++this.#count}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new ConvergeError('timeout', 'the tab holding the connection did not answer the read'));
      }, timeoutMs);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      this.#waiting.set(id, { resolve: () => settle(), reject: settle });
      this.#tabs.post({ type: 'read', id, collection, keys });
    });
  }

  /** The leader's `read-done`. */
  done(id: string, error: ErrorInfo | undefined): void {
    const pending = this.#waiting.get(id);
    if (pending === undefined) return;
    this.#waiting.delete(id);
    if (error === undefined) pending.resolve();
    else pending.reject(new ConvergeError(error.code, error.message));
  }
}
