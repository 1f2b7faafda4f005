import { AckTimeoutError, ConvergeError, QuorumUnavailableError, type ErrorCode } from '@converge/conflict';
import type { AckLevel } from '@converge/protocol';
import { levelRank as rank } from './ack-levels.js';

interface Waiter {
  readonly wanted: AckLevel;
  resolve(level: AckLevel): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A wait the closing of the client ended: the level reached, and `closed` as the cause. */
const closedBefore = (wanted: AckLevel, reached: AckLevel) =>
  new AckTimeoutError(wanted, reached, { cause: new ConvergeError('closed', 'the client was closed') });

/**
 * The promises of writes waiting for an acknowledgement level. A write's level only moves
 * forward (`local` → `relay` → `quorum` → `all`), or it is rejected. A level not reached in
 * time rejects with `AckTimeoutError` naming the level reached; the write itself stays queued.
 */
export class AckWaiters {
  readonly #waiting = new Map<string, Waiter>();
  /** Outcomes seen before anyone waited (another tab's ack can race a write's own commit). */
  readonly #settled = new Map<string, AckLevel | ConvergeError>();
  readonly #reached = new Map<string, AckLevel>();
  #closed = false;

  /** Waits until `writeId` (committed locally) reaches `wanted`. */
  wait(writeId: string, wanted: AckLevel, timeoutMs: number): Promise<AckLevel> {
    const early = this.#settled.get(writeId);
    if (early instanceof QuorumUnavailableError && rank(wanted) <= rank(early.reached as AckLevel)) return Promise.resolve(early.reached as AckLevel);
    if (early instanceof ConvergeError) return Promise.reject(early);
    if (early !== undefined && rank(early) >= rank(wanted)) return Promise.resolve(early);
    if (wanted === 'local') return Promise.resolve('local');
    // A write committed as the client closed: no ack can come any more.
    if (this.#closed) return Promise.reject(closedBefore(wanted, early ?? 'local'));
    return new Promise<AckLevel>((resolve, reject) => {
      const waiter: Waiter = { wanted, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        this.#waiting.delete(writeId);
        reject(new AckTimeoutError(wanted, this.#reached.get(writeId) ?? early ?? 'local'));
      }, timeoutMs);
      this.#waiting.set(writeId, waiter);
    });
  }

  /** Writes now held at `level`. */
  acked(writeIds: readonly string[], level: AckLevel): void {
    for (const id of writeIds) {
      const waiter = this.#waiting.get(id);
      if (waiter === undefined) {
        this.#remember(id, level);
        continue;
      }
      this.#reached.set(id, level);
      if (rank(level) >= rank(waiter.wanted)) {
        clearTimeout(waiter.timer);
        this.#waiting.delete(id);
        this.#reached.delete(id);
        waiter.resolve(level);
      }
    }
  }

  /**
   * The relay's store cannot confirm more than `reached` for these writes: a write waiting for
   * a higher level rejects with `QuorumUnavailableError` (the write itself is held at `reached`).
   */
  unavailable(writeIds: readonly string[], reached: AckLevel): void {
    for (const id of writeIds) {
      const waiter = this.#waiting.get(id);
      if (waiter === undefined) {
        const early = this.#settled.get(id);
        if (!(early instanceof ConvergeError)) this.#remember(id, new QuorumUnavailableError(rank(reached) < rank('quorum') ? 'quorum' : 'all', reached));
        // (a later wait for a level at or below `reached` still resolves: see `wait`)
        continue;
      }
      if (rank(waiter.wanted) <= rank(reached)) continue;
      clearTimeout(waiter.timer);
      this.#waiting.delete(id);
      this.#reached.delete(id);
      waiter.reject(new QuorumUnavailableError(waiter.wanted, reached));
    }
  }

  /** A write the relay refused for good: its promise rejects with the refusal's code. */
  rejected(writeId: string, code: ErrorCode, message: string): void {
    const error = new ConvergeError(code, message);
    const waiter = this.#waiting.get(writeId);
    if (waiter === undefined) {
      this.#remember(writeId, error);
      return;
    }
    clearTimeout(waiter.timer);
    this.#waiting.delete(writeId);
    this.#reached.delete(writeId);
    waiter.reject(error);
  }

  /** Stops waiting (client closed): each write rejects with the level it reached. */
  close(): void {
    this.#closed = true;
    for (const [id, waiter] of this.#waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(closedBefore(waiter.wanted, this.#reached.get(id) ?? 'local'));
    }
    this.#waiting.clear();
  }

  #remember(id: string, outcome: AckLevel | ConvergeError): void {
    this.#settled.set(id, outcome);
    if (this.#settled.size > 10_000) this.#settled.delete(this.#settled.keys().next().value!);
  }
}
