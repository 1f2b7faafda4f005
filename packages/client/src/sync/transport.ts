/** What a transport reports about one connection, in order; nothing follows `onClose`. */
export interface TransportHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(code: number, reason: string): void;
}

/** One open (or opening) connection. */
export interface TransportConnection {
  /** Sends one text frame; frames sent before `onOpen` or after close are dropped. */
  send(text: string): void;
  /** Closes the connection; `onClose` follows once. */
  close(code?: number, reason?: string): void;
}

/**
 * How the client reaches a relay: it opens one connection at a time and reconnects on its own
 * (with backoff) after `onClose`. Contract: `open` never throws (a failure to connect is an
 * `onClose`); handlers run asynchronously, never inside `open` or `send`; messages arrive in
 * the order the relay sent them.
 */
export interface Transport {
  open(handlers: TransportHandlers): TransportConnection;
}
