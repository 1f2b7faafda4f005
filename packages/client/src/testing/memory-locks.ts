import type { LockManagerLike } from '../tabs/tab-coordinator.js';

/**
 * Exclusive locks in memory with the Web Locks semantics the client uses: `request` waits its
 * turn, holds the lock while the callback's promise is pending, and an aborted signal drops a
 * waiting request. Share one between clients to model tabs of one origin in Node.
 */
export function createMemoryLocks(): LockManagerLike {
  const held = new Set<string>();
  const waiting = new Map<string, (() => void)[]>();
  const next = (name: string) => {
    const queue = waiting.get(name);
    const wake = queue?.shift();
    if (wake === undefined) held.delete(name);
    else wake();
  };
  return {
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const run = () => {
          held.add(name);
          Promise.resolve()
            .then(() => callback({ name }))
            .then(resolve, reject)
            .finally(() => next(name));
        };
        if (!held.has(name)) {
          run();
          return;
        }
        const queue = waiting.get(name) ?? [];
        waiting.set(name, queue);
        queue.push(run);
        options.signal?.addEventListener('abort', () => {
          const at = queue.indexOf(run);
          if (at >= 0) queue.splice(at, 1);
          reject(new DOMException('the lock request was aborted', 'AbortError'));
        });
      });
    },
  };
}
