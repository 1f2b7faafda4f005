/**
 * Watches a connection for silence: after `everyMs` without a frame it pings once; after twice
 * that the connection is dead (a half-open socket, a frozen relay) and `dead(quietMs)` is called.
 */
export class Heartbeat {
  #lastHeard: number;
  #pinged = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  readonly #now: () => number;
  readonly #ping: () => void;
  readonly #dead: (quietMs: number) => void;

  constructor(now: () => number, ping: () => void, dead: (quietMs: number) => void) {
    this.#now = now;
    this.#ping = ping;
    this.#dead = dead;
    this.#lastHeard = now();
  }

  /** A frame arrived. */
  heard(): void {
    this.#lastHeard = this.#now();
    this.#pinged = false;
  }

  start(everyMs: number): void {
    this.stop();
    this.#timer = setInterval(
      () => {
        const quiet = this.#now() - this.#lastHeard;
        if (quiet >= 2 * everyMs) this.#dead(quiet);
        else if (quiet >= everyMs && !this.#pinged) {
          this.#pinged = true;
          this.#ping();
        }
      },
      Math.max(50, Math.floor(everyMs / 2)),
    );
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
