import { ConvergeError } from '@converge/conflict';
import { PendingReplies } from '../pending-replies.js';
import type { TabCoordinator } from './tab-coordinator.js';
import type { ErrorInfo } from './tab-messages.js';

/** A follower tab's leader reads: asked of the tab holding the socket, answered over the channel. */
export class FollowerReads {
  readonly #waiting = new PendingReplies();
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
    const answered = this.#waiting.wait(id, timeoutMs, 'the tab holding the connection did not answer the read');
    this.#tabs.post({ type: 'read', id, collection, keys });
    return answered;
  }

  /** The leader's `read-done`. */
  done(id: string, error: ErrorInfo | undefined): void {
    this.#waiting.settle(id, error === undefined ? undefined : new ConvergeError(error.code, error.message));
  }
}
