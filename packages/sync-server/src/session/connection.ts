import type { ErrorCode } from '@converge/conflict';
import type { WebSocket } from 'ws';

/** WebSocket close codes the relay uses. */
export const CLOSE = { normal: 1000, goingAway: 1001, unsupported: 1003, policy: 1008, tooBig: 1009, internal: 1011, tryLater: 1013 } as const;

/** The close code of a session that fails with `code`, unless it names another. */
export const closeCodeFor = (code: ErrorCode): number =>
  code === 'payload_too_large' ? CLOSE.tooBig : code === 'internal' ? CLOSE.internal : code === 'behind' ? CLOSE.tryLater : CLOSE.policy;

/**
 * What a session needs from a socket. `ws` sockets are adapted by `wsConnection`; tests and
 * in-process clients can pass any object with this shape (an in-memory pair).
 */
export interface RelayConnection {
  /** Queues a text frame; `done` runs once it is written out (or failed). */
  send(data: string, done?: (error?: Error) => void): void;
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written: the relay disconnects a consumer that lets it grow. */
  readonly bufferedAmount: number;
  /** `binary`: the frame came as a binary WebSocket message (the relay refuses those). */
  onMessage(handler: (data: string, binary?: boolean) => void): void;
  onClose(handler: (code: number, reason: string) => void): void;
  /** Transport-level heartbeat, when the transport has one (ws ping/pong). */
  ping?(onPong: () => void): void;
  /** Drops the connection at once, without a closing handshake. */
  terminate?(): void;
}

/** Adapts a `ws` WebSocket. */
export function wsConnection(ws: WebSocket): RelayConnection {
  let pongHandler: (() => void) | undefined;
  ws.on('pong', () => pongHandler?.());
  // ws reports protocol violations (a frame above maxPayload, bad UTF-8) here and closes the
  // socket itself with 1009/1007; the session learns of it through 'close'.
  ws.on('error', () => undefined);
  return {
    send: (data, done) => ws.send(data, done),
    close: (code, reason) => ws.close(code, reason),
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    onMessage(handler) {
      ws.on('message', (data, isBinary) => handler(isBinary ? '' : data.toString(), isBinary));
    },
    onClose(handler) {
      ws.on('close', (code, reason) => handler(code, reason.toString()));
    },
    ping(onPong) {
      pongHandler = onPong;
      ws.ping();
    },
    terminate: () => ws.terminate(),
  };
}
