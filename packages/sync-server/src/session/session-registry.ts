import type { RelayMetrics } from '../metrics.js';
import type { RateLimit } from '../relay-options.js';
import type { RelayConnection } from './connection.js';
import type { HostedSession, SessionRoster } from './session-host.js';
import { TokenBucket } from './token-bucket.js';

export interface SessionRegistrySettings {
  readonly maxConnectionsPerPrincipal: number;
  readonly principalRateLimit: RateLimit;
  /** Anonymous principals share no identity: no per-principal connection limit. */
  readonly anonymous: boolean;
  readonly now: () => number;
}

/**
 * The relay's sessions: every accepted connection's session (before `hello` too), and the
 * sessions past `hello` — counted per principal against its connection limit, fed by live
 * fan-out (`live`), sharing their principal's token bucket — with the connections gauge.
 */
export class SessionRegistry implements SessionRoster {
  /** Sessions past `hello`: the receivers of live fan-out. */
  readonly live = new Set<HostedSession>();
  private readonly accepted = new Map<RelayConnection, HostedSession>();
  private readonly perPrincipal = new Map<string, number>();
  private readonly principalBuckets = new Map<string, TokenBucket>();
  private drained: (() => void) | undefined;

  constructor(
    private readonly settings: SessionRegistrySettings,
    private readonly metrics: Pick<RelayMetrics, 'connections'>,
  ) {}

  /** Accepted connections, whether or not their session is past `hello`. */
  get sockets(): number {
    return this.accepted.size;
  }

  /** Holds an accepted connection's session until the connection closes. */
  track(connection: RelayConnection, session: HostedSession): void {
    this.accepted.set(connection, session);
    connection.onClose(() => {
      this.accepted.delete(connection);
      if (this.accepted.size === 0) this.drained?.();
    });
  }

  register(session: HostedSession): boolean {
    const id = session.principalId!;
    const count = this.perPrincipal.get(id) ?? 0;
    if (!this.settings.anonymous && count >= this.settings.maxConnectionsPerPrincipal) return false;
    this.perPrincipal.set(id, count + 1);
    this.live.add(session);
    this.metrics.connections.set(this.live.size);
    return true;
  }

  unregister(session: HostedSession): void {
    if (!this.live.delete(session)) return;
    const id = session.principalId!;
    const count = (this.perPrincipal.get(id) ?? 1) - 1;
    if (count <= 0) this.perPrincipal.delete(id);
    else this.perPrincipal.set(id, count);
    this.metrics.connections.set(this.live.size);
  }

  principalBucket(id: string): TokenBucket {
    let bucket = this.principalBuckets.get(id);
    if (bucket === undefined) {
      const { burst, changesPerSecond } = this.settings.principalRateLimit;
      bucket = new TokenBucket(burst, changesPerSecond, this.settings.now);
      this.principalBuckets.set(id, bucket);
    }
    return bucket;
  }

  /** Closes every session now, without waiting (the relay goes on accepting new ones). */
  closeEvery(code: number, reason: string): void {
    for (const session of [...this.accepted.values()]) session.close(code, reason);
  }

  /**
   * Closes every session with `code` and resolves once every connection has closed; a
   * connection that has not finished its closing handshake after `timeoutMs` is cut.
   */
  async closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    this.closeEvery(code, reason);
    if (this.accepted.size === 0) return;
    const timer = setTimeout(() => {
      for (const connection of this.accepted.keys()) connection.terminate?.();
    }, timeoutMs);
    await new Promise<void>((resolve) => (this.drained = resolve));
    clearTimeout(timer);
  }
}
