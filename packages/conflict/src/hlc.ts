import { replicaIdProblem, type ReplicaId } from './replica-id.js';

/**
 * Hybrid logical clock timestamp (Kulkarni et al., 2014): physical milliseconds, a logical
 * counter for events within one millisecond or while the physical clock lags, and the
 * replica that stamped it. Totally ordered by (wall, logical, replica).
 */
export interface Hlc {
  readonly wall: number;
  readonly logical: number;
  readonly replica: ReplicaId;
}

/** Largest logical counter; one more event borrows the next millisecond instead. */
export const MAX_LOGICAL = 0xffff;
/** Largest wall time: the end of ECMAScript's Date range. */
export const MAX_WALL = 8.64e15;

export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall - b.wall;
  if (a.logical !== b.logical) return a.logical - b.logical;
  if (a.replica === b.replica) return 0;
  return a.replica < b.replica ? -1 : 1;
}

export function hlcProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'hlc must be an object';
  const { wall, logical, replica } = value as Record<string, unknown>;
  if (typeof wall !== 'number' || !Number.isSafeInteger(wall) || wall < 0 || wall > MAX_WALL) {
    return `hlc wall must be an integer in [0, ${MAX_WALL}]`;
  }
  if (typeof logical !== 'number' || !Number.isSafeInteger(logical) || logical < 0 || logical > MAX_LOGICAL) {
    return `hlc logical must be an integer in [0, ${MAX_LOGICAL}]`;
  }
  return replicaIdProblem(replica);
}

/**
 * Is `stamp` further ahead of `nowMs` than `maxSkewMs`? The relay applies this to client
 * pushes only; a replica never refuses a remote stamp it merges.
 */
export function isTooFarAhead(stamp: Hlc, nowMs: number, maxSkewMs: number): boolean {
  return stamp.wall - nowMs > maxSkewMs;
}

export interface HlcClockOptions {
  readonly replica: ReplicaId;
  /** Physical time in ms. Injected: this package never reads a global clock. */
  readonly now: () => number;
  /** Added to `now()`, e.g. the offset learned from the relay's `welcome.now`. */
  readonly offsetMs?: number;
  /** The last stamp issued before a restart, so the clock never goes back. */
  readonly last?: Hlc;
}

export interface HlcClock {
  readonly replica: ReplicaId;
  /** A new stamp for a local event, greater than every stamp issued or received before. */
  tick(): Hlc;
  /** Takes in a remote stamp (never refused, however far ahead) and returns a stamp above both. */
  receive(remote: Hlc): Hlc;
  /** The greatest stamp issued or received so far. */
  last(): Hlc;
  offsetMs(): number;
  setOffsetMs(offsetMs: number): void;
}

/**
 * @example
 * ```ts
 * let t = 1000;
 * const clock = createHlcClock({ replica: 'A', now: () => t });
 * clock.tick(); // → { wall: 1000, logical: 0, replica: 'A' }
 * // same millisecond:
 * clock.tick(); // → { wall: 1000, logical: 1, replica: 'A' }
 * t = 900; // the physical clock went back; the clock stays monotonic:
 * clock.tick(); // → { wall: 1000, logical: 2, replica: 'A' }
 * ```
 */
export function createHlcClock(options: HlcClockOptions): HlcClock {
  const { replica, now } = options;
  let offset = options.offsetMs ?? 0;
  let wall = options.last?.wall ?? 0;
  let logical = options.last?.logical ?? 0;

  const physical = (): number => {
    const ms = Math.floor(now() + offset);
    return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_WALL) : wall;
  };

  const stamp = (nextWall: number, nextLogical: number): Hlc => {
    if (nextLogical > MAX_LOGICAL) {
      // Overflow: borrow the next millisecond rather than wrap, so order is kept.
      nextWall += 1;
      nextLogical = 0;
    }
    if (nextWall > MAX_WALL) throw new RangeError('hybrid logical clock reached the end of the Date range');
    wall = nextWall;
    logical = nextLogical;
    return { wall, logical, replica };
  };

  return {
    replica,
    tick() {
      const pt = physical();
      return pt > wall ? stamp(pt, 0) : stamp(wall, logical + 1);
    },
    receive(remote) {
      const pt = physical();
      const top = Math.max(pt, wall, remote.wall);
      if (top === wall && top === remote.wall) return stamp(top, Math.max(logical, remote.logical) + 1);
      if (top === wall) return stamp(top, logical + 1);
      if (top === remote.wall) return stamp(top, remote.logical + 1);
      return stamp(top, 0);
    },
    last: () => ({ wall, logical, replica }),
    offsetMs: () => offset,
    setOffsetMs(next) {
      offset = next;
    },
  };
}
