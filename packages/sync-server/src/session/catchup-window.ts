/**
 * The catch-up budget of one connection, shared by all its subscriptions, however many it
 * opens: one credit window of `catchupWindowBytes` (every catch-up frame uses up its size,
 * `credit` frames give it back, never above the window), and one turn, so that one subscription
 * at a time scans and sends a batch. A connection therefore holds at most one scanned batch and
 * one window of catch-up bytes the client has not granted back.
 */
export class CatchupWindow {
  private credit: number;
  private busy = false;
  private stopped = false;
  /** Subscriptions waiting for the turn, first come first served. */
  private readonly turns: (() => void)[] = [];
  /** The holder of the turn, waiting for credit. */
  private creditWaiter: (() => void) | undefined;

  constructor(private readonly size: number) {
    this.credit = size;
  }

  /** True while catch-up frames may be sent: some credit is left. */
  get open(): boolean {
    return this.credit > 0;
  }

  /** A catch-up frame of `bytes` was sent. */
  take(bytes: number): void {
    this.credit -= bytes;
  }

  /** The client granted `bytes` back (`credit` frame); the window never grows beyond its size. */
  grant(bytes: number): void {
    this.credit = Math.min(this.size, this.credit + bytes);
    this.wakeCreditWaiter();
  }

  /** Resolves once credit was granted (or the window stopped). */
  granted(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => (this.creditWaiter = resolve));
  }

  /**
   * Runs `work` once no other subscription of the connection runs one, in the order asked.
   * After `stop`, runs it at once (it sees that its session closed).
   */
  async turn<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy && !this.stopped) await new Promise<void>((resolve) => this.turns.push(resolve));
    this.busy = true;
    try {
      return await work();
    } finally {
      // Handed to the next in line without ever being free: nobody overtakes it.
      const next = this.turns.shift();
      if (next === undefined) this.busy = false;
      else next();
    }
  }

  /** The session closed: everything waiting runs on and finds it closed. */
  stop(): void {
    this.stopped = true;
    this.wakeCreditWaiter();
    for (const next of this.turns.splice(0)) next();
  }

  private wakeCreditWaiter(): void {
    const wake = this.creditWaiter;
    this.creditWaiter = undefined;
    wake?.();
  }
}
