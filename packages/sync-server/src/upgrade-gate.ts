import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { pathOf, refuseUpgrade } from './http.js';
import type { RelayMetrics } from './metrics.js';
import type { UpgradeVerdict } from './relay-options.js';
import { wsConnection, type RelayConnection } from './session/connection.js';

export interface UpgradeGateSettings {
  readonly allowedOrigins: readonly string[] | undefined;
  /** Connections (accepted and being verified) at most. */
  readonly maxConnections: number;
  readonly verifyUpgrade: ((request: IncomingMessage) => UpgradeVerdict | Promise<UpgradeVerdict>) | undefined;
  /** The largest WebSocket message read, bytes. */
  readonly maxPayload: number;
  readonly log: Logger;
}

/** What the gate asks of the relay behind it. */
export interface UpgradeTarget {
  /** Whether the relay still accepts connections. */
  running(): boolean;
  /** Connections the relay holds now. */
  connections(): number;
  accept(connection: RelayConnection): void;
}

interface Refusal {
  readonly status: number;
  /** The code `converge_rejects_total` counts it under. */
  readonly code: string;
  readonly message?: string;
}

/**
 * Admits WebSocket upgrades on an HTTP(S) server's path: refuses them (as an HTTP response,
 * counted) while the relay shuts down, from an origin not allowed, beyond `maxConnections`
 * (upgrades being verified count too), or when `verifyUpgrade` says no; hands the rest to the
 * relay as connections.
 */
export class UpgradeGate {
  private readonly wss: WebSocketServer;
  /** Upgrades waiting for `verifyUpgrade`. */
  private upgrading = 0;

  constructor(
    private readonly settings: UpgradeGateSettings,
    private readonly target: UpgradeTarget,
    private readonly metrics: Pick<RelayMetrics, 'rejects'>,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxPayload, perMessageDeflate: false });
  }

  /**
   * Serves upgrades on `path` of `server`, listening to `upgrade` only; upgrades on other paths
   * are left to other listeners (refused with 404 when there are none). Returns the detach.
   */
  attach(server: Server, path: string): () => void {
    const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      if (pathOf(request) !== path) {
        // Another listener may serve this path; alone on the server, the relay refuses it so the socket does not hang.
        if (server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404);
        return;
      }
      this.upgrade(request, socket, head).catch((error: unknown) => {
        this.settings.log.error({ err: error }, 'upgrade failed');
        refuseUpgrade(socket, 500);
      });
    };
    server.on('upgrade', onUpgrade);
    return () => void server.off('upgrade', onUpgrade);
  }

  close(): void {
    this.wss.close();
  }

  /** Why an upgrade is refused, or undefined to let it through. */
  private refusalOf(request: IncomingMessage): Refusal | undefined {
    const { allowedOrigins, maxConnections } = this.settings;
    if (!this.target.running()) return { status: 503, code: 'shutting_down' };
    const origin = request.headers.origin;
    if (allowedOrigins !== undefined && origin !== undefined && !allowedOrigins.includes(origin)) return { status: 403, code: 'origin' };
    if (this.target.connections() + this.upgrading >= maxConnections) return { status: 503, code: 'max_connections' };
    return undefined;
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { verifyUpgrade } = this.settings;
    let refusal = this.refusalOf(request);
    if (refusal === undefined && verifyUpgrade !== undefined) {
      this.upgrading++;
      try {
        const verdict = await verifyUpgrade(request);
        if (verdict !== true)
          refusal = {
            status: verdict === false ? 401 : verdict.status,
            code: 'verify_upgrade',
            ...(verdict === false || verdict.message === undefined ? {} : { message: verdict.message }),
          };
      } finally {
        this.upgrading--;
      }
      refusal ??= this.refusalOf(request);
    }
    if (refusal !== undefined) {
      this.metrics.rejects.inc({ code: refusal.code });
      refuseUpgrade(socket, refusal.status, refusal.message);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.target.accept(wsConnection(ws)));
  }
}
