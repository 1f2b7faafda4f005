// TCP bytes at a replica's sockets: every client socket this process opens while counting
// (WebSocket or HTTP, whatever library opens it), read from the socket itself, so framing,
// HTTP headers and handshakes count. Loopback, permessage-deflate off everywhere.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

export interface WireBytes {
  /** Bytes received. */
  readonly in: number;
  /** Bytes sent. */
  readonly out: number;
}

export class SocketBytes {
  private readonly sockets = new Set<Socket>();
  private readonly onSocket = (message: unknown) => {
    this.sockets.add((message as { socket: Socket }).socket);
  };

  constructor() {
    subscribe('net.client.socket', this.onSocket);
  }

  /** Bytes so far over every socket opened since construction (closed ones included). */
  read(): WireBytes {
    let read = 0;
    let written = 0;
    for (const socket of this.sockets) {
      read += socket.bytesRead;
      written += socket.bytesWritten;
    }
    return { in: read, out: written };
  }

  /** Stops noticing new sockets and returns the bytes so far. */
  stop(): WireBytes {
    unsubscribe('net.client.socket', this.onSocket);
    return this.read();
  }
}
