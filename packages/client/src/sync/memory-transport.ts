import type { Transport, TransportConnection, TransportHandlers } from './transport.js';

/** One end of an in-memory connection (the shape of `@converge/sync-server/testing`'s `memoryConnectionPair().clientEnd`). */
export interface MemoryEndpoint {
  send(text: string): void;
  close(): void;
  onMessage(handler: (text: string) => void): void;
  onClose(handler: (code: number, reason: string) => void): void;
}

/**
 * A transport without sockets: `connect()` returns a fresh endpoint per connection, e.g. one
 * end of a relay's in-memory connection pair. For tests, examples and simulations.
 *
 * @example
 * ```ts
 * // with the relay in the same process (tests):
 * // memoryTransport(() => { const pair = memoryConnectionPair(); relay.accept(pair.relayEnd); return pair.clientEnd; })
 * typeof memoryTransport(() => { throw new Error('offline'); }).open; // → 'function'
 * ```
 */
export function memoryTransport(connect: () => MemoryEndpoint): Transport {
  return {
    open(handlers: TransportHandlers): TransportConnection {
      let closed = false;
      let endpoint: MemoryEndpoint | undefined;
      const finish = (code: number, reason: string) => {
        if (closed) return;
        closed = true;
        handlers.onClose(code, reason);
      };
      try {
        endpoint = connect();
      } catch (error) {
        queueMicrotask(() => finish(1006, (error as Error).message));
        return { send: () => undefined, close: () => finish(1000, 'closed') };
      }
      endpoint.onMessage((text) => {
        if (!closed) handlers.onMessage(text);
      });
      endpoint.onClose((code, reason) => finish(code, reason));
      queueMicrotask(() => {
        if (!closed) handlers.onOpen();
      });
      return {
        send(text) {
          if (!closed) endpoint!.send(text);
        },
        close(code = 1000, reason = 'client closed') {
          endpoint!.close();
          finish(code, reason);
        },
      };
    },
  };
}
