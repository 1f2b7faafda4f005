import type { Logger } from 'pino';
import type { RelayMetrics } from './metrics.js';
import type { RelayStore, StoreReads } from './store/relay-store.js';

/** The meta value holding when the recovery window closes, in ms since the epoch. */
const RECOVERY_META = 'recovery_until';

/** When the store's recovery window closes (0: never opened). */
export async function recoveryWindowEnd(reads: StoreReads): Promise<number> {
  return Number((await reads.getMeta(RECOVERY_META)) ?? 0);
}

/**
 * Keeps the recovery window open until at least `until`. A window only ever extends: a shorter
 * one opened later (a signed cursor beyond the head, under a relay started with a short
 * `recoveryWindowMs`) never cuts short a longer one (`restore --recovery-window 1h`).
 * Resolves to when the window now closes (read and extended in one transaction).
 */
export function extendRecoveryWindow(store: RelayStore, until: number): Promise<number> {
  return store.transact(async (tx) => {
    const current = await recoveryWindowEnd(tx);
    if (until > current) await tx.setMeta(RECOVERY_META, String(until));
    return Math.max(current, until);
  });
}

export interface RecoveryWindowSettings {
  /** How long a window stays open once opened, ms. */
  readonly recoveryWindowMs: number;
  /** Open one at start (the operator's flag), before any session is welcomed. */
  readonly openRecoveryWindow: boolean;
  readonly now: () => number;
}

/**
 * The relay's recovery window, kept in the store: only evidence opens it (a signed cursor
 * proving lost data, or the operator's flag); a new database opens none by itself, having
 * nothing to recover. Each opening is counted and logged.
 */
export class RecoveryWindow {
  /** The operator's opening at start; every question waits for it. */
  readonly ready: Promise<void>;

  constructor(
    private readonly store: RelayStore,
    private readonly settings: RecoveryWindowSettings,
    private readonly metrics: Pick<RelayMetrics, 'recoveryWindowOpens'>,
    private readonly log: Logger,
  ) {
    this.ready = settings.openRecoveryWindow ? this.open('operator_flag', {}) : Promise.resolve();
    this.ready.catch((error: unknown) => log.error({ err: error }, 'opening the recovery window failed'));
  }

  /** Opens (or extends) the window for `recoveryWindowMs` from now. */
  async open(reason: string, details: Record<string, unknown>): Promise<void> {
    const until = await extendRecoveryWindow(this.store, this.settings.now() + this.settings.recoveryWindowMs);
    this.metrics.recoveryWindowOpens.inc({ reason });
    this.log.warn({ reason, ...details, until: new Date(until).toISOString() }, 'recovery window opened: the relay lost data and accepts re-pushed states');
  }

  /** Whether the window is open now (read from the store). */
  async isOpen(): Promise<boolean> {
    await this.ready;
    return this.settings.now() < (await recoveryWindowEnd(this.store));
  }
}
