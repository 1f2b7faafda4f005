/**
 * Watches a connection for silence: after `everyMs` without a frame it pings once; after twice
 * that the connection is dead (a half-open socket, a frozen relay) and `dead(quietMs)` is called.
 */
export class Heartbeat {
  private lastHeard: number;
  private pinged = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly now: () => number,
    private readonly ping: () => void,
    private readonly dead: (quietMs: number) => void,
  ) {
    this.lastHeard = now();
  }

  /** A frame arrived. */
  heard(): void {
    this.lastHeard = this.now();
    this.pinged = false;
  }

  start(everyMs: number): void {
    this.stop();
    this.timer = setInterval(
      () => {
        const quiet = this.now() - this.lastHeard;
        if (quiet >= 2 * everyMs) this.dead(quiet);
        else if (quiet >= everyMs && !this.pinged) {
          this.pinged = true;
          this.ping();
        }
      },
      Math.max(50, Math.floor(everyMs / 2)),
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
