import type { Transport, TransportConnection, TransportHandlers } from './transport.js';

/** The part of the WebSocket API the client uses: the browser's global, or `ws` in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: EventHandler<unknown> | null;
  onmessage: EventHandler<{ readonly data: unknown }> | null;
  onclose: EventHandler<{ readonly code: number; readonly reason: string }> | null;
  onerror: EventHandler<unknown> | null;
}

/** A handler slot typed as a method (checked bivariantly), so a WebSocket whose events carry more fields fits: the DOM's, `ws`'s. */
type EventHandler<E> = { handle(event: E): void }['handle'];

export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

/**
 * A transport over WebSocket. Browsers pass the global `WebSocket` (the default); Node passes
 * the `ws` package's class — the client itself never imports it.
 *
 * @example
 * ```ts
 * // in a browser: webSocketTransport('wss://relay.example.com/')
 * // in Node:      webSocketTransport('ws://127.0.0.1:8787/', (await import('ws')).WebSocket)
 * typeof webSocketTransport('ws://127.0.0.1:1/', class {} as never).open; // → 'function'
 * ```
 */
export function webSocketTransport(url: string, WebSocketImpl?: WebSocketConstructor): Transport {
  return {
    open(handlers: TransportHandlers): TransportConnection {
      const Impl = WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      let closed = false;
      const finish = (code: number, reason: string) => {
        if (closed) return;
        closed = true;
        handlers.onClose(code, reason);
      };
      if (Impl === undefined) {
        queueMicrotask(() => finish(1006, 'WebSocket is not available here: pass a WebSocket constructor'));
        return { send: () => undefined, close: () => finish(1000, 'closed') };
      }
      let socket: WebSocketLike;
      try {
        socket = new Impl(url);
      } catch (error) {
        queueMicrotask(() => finish(1006, `cannot open ${url}: ${(error as Error).message}`));
        return { send: () => undefined, close: () => finish(1000, 'closed') };
      }
      socket.onopen = () => {
        if (!closed) handlers.onOpen();
      };
      socket.onmessage = (event) => {
        if (!closed) handlers.onMessage(typeof event.data === 'string' ? event.data : String(event.data));
      };
      socket.onclose = (event) => finish(event.code, event.reason);
      socket.onerror = () => undefined; // a close event follows
      return {
        send(text) {
          if (!closed && socket.readyState === OPEN) socket.send(text);
        },
        close(code = 1000, reason = 'client closed') {
          try {
            socket.close(code, reason);
          } catch {
            // not open yet in some implementations
          }
          // Do not wait for the closing handshake of a dead socket.
          finish(code, reason);
        },
      };
    },
  };
}
