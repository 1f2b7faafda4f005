import type { RelayConnection } from '../session/connection.js';

/** The client's end of an in-memory connection to a relay. */
export interface MemoryClientEnd {
  send(text: string): void;
  close(): void;
  onMessage(handler: (text: string) => void): void;
  onClose(handler: (code: number, reason: string) => void): void;
}

/**
 * An in-memory transport: `relay.accept(pair.relayEnd)` runs a real session without sockets;
 * `pair.clientEnd` is what a client transport talks to. Delivery is asynchronous (a microtask
 * per frame) and in order, like a socket.
 */
export function memoryConnectionPair(): { relayEnd: RelayConnection; clientEnd: MemoryClientEnd } {
  const toRelay: ((text: string) => void)[] = [];
  const toClient: ((text: string) => void)[] = [];
  const relayClosed: ((code: number, reason: string) => void)[] = [];
  const clientClosed: ((code: number, reason: string) => void)[] = [];
  let open = true;
  const shut = (code: number, reason: string) => {
    if (!open) return;
    open = false;
    queueMicrotask(() => {
      for (const h of relayClosed) h(code, reason);
      for (const h of clientClosed) h(code, reason);
    });
  };
  return {
    relayEnd: {
      send(data, done) {
        if (open) queueMicrotask(() => toClient.forEach((h) => h(data)));
        queueMicrotask(() => done?.());
      },
      close: shut,
      bufferedAmount: 0,
      onMessage: (h) => void toRelay.push(h),
      onClose: (h) => void relayClosed.push(h),
    },
    clientEnd: {
      send(text) {
        if (open) queueMicrotask(() => toRelay.forEach((h) => h(text)));
      },
      close: () => shut(1000, 'client closed'),
      onMessage: (h) => void toClient.push(h),
      onClose: (h) => void clientClosed.push(h),
    },
  };
}
