import { ConvergeError } from '@converge/conflict';
import type { ClientEvents } from './client-events.js';
import type { Emitter } from './emitter.js';
import type { RelayLink } from './relay-link.js';
import type { LocalReplica } from './replica/local-replica.js';
import type { LiveStatus } from './live-status.js';
import { memoryStorage } from './open-storage.js';

/**
 * When IndexedDB cannot be opened, or goes away under the client (storage cleared, the database
 * deleted or upgraded by another tab, a disk error), the client goes on in memory as a new
 * replica that catches up from the relay, and says so once: `status.storageFailed`, the
 * `storage_unavailable` error, a `storageFailure` event.
 */
export class StorageFailover {
  #stop: (() => void) | undefined;

  readonly #replica: LocalReplica;
  readonly #status: LiveStatus;
  readonly #events: Emitter<ClientEvents>;
  readonly #link: RelayLink;
  /** Work a failure started failed: reported, never an unhandled rejection. */
  readonly #failed: (error: unknown) => void;

  constructor(replica: LocalReplica, status: LiveStatus, events: Emitter<ClientEvents>, link: RelayLink, failed: (error: unknown) => void) {
    this.#replica = replica;
    this.#status = status;
    this.#events = events;
    this.#link = link;
    this.#failed = failed;
  }

  /** Follows the storage in use; `openFailure`: IndexedDB could not be opened (the client started in memory). */
  start(openFailure: ConvergeError | undefined): void {
    if (openFailure !== undefined) this.#report(openFailure);
    this.#stop = this.#replica.onStorageFailure((error) => {
      const failure = new ConvergeError('storage_unavailable', `storage failed: ${error.message}; working in memory`, { cause: error });
      this.#fallBack(failure).catch(this.#failed);
    });
  }

  stop(): void {
    this.#stop?.();
  }

  async #fallBack(error: ConvergeError): Promise<void> {
    const rep = await this.#replica.replaceStorage(await memoryStorage());
    this.#report(error);
    this.#status.update({ replicaId: rep.id, pending: 0 });
    this.#link.restart();
  }

  #report(error: ConvergeError): void {
    this.#status.update({ storage: 'memory', storageFailed: true, error });
    this.#events.emit('storageFailure', error);
  }
}
