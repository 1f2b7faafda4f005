import { ConvergeError } from '@converge/conflict';

/**
 * Requests waiting for a reply, by id (a leader read asked of the relay or of the leader tab):
 * each resolves when its reply comes, or rejects with the reply's error, or with `timeout` when
 * none came in time.
 */
export class PendingReplies {
  readonly #waiting = new Map<string, (error?: Error) => void>();

  /** Waits for `settle(id)`; rejects with `timeout` and `timeoutMessage` after `timeoutMs`. */
  wait(id: string, timeoutMs: number, timeoutMessage: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new ConvergeError('timeout', timeoutMessage)), timeoutMs);
      this.#waiting.set(id, (error) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        if (error === undefined) resolve();
        else reject(error);
      });
    });
  }

  has(id: string): boolean {
    return this.#waiting.has(id);
  }

  /** The reply to `id` came (`error`: it failed). False when nothing waits for it. */
  settle(id: string, error?: Error): boolean {
    const waiting = this.#waiting.get(id);
    waiting?.(error);
    return waiting !== undefined;
  }

  /** Every request fails with `error` (the connection ended). */
  settleAll(error: Error): void {
    for (const waiting of [...this.#waiting.values()]) waiting(error);
  }
}
