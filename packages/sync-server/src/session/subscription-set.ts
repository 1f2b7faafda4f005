import type { ErrorFrame, Subscription as SubscriptionRequest } from '@converge/protocol';
import type { Principal } from '../auth/auth.js';
import type { LiveRound } from '../fan-out.js';
import { CatchupWindow } from './catchup-window.js';
import type { SessionHost } from './session-host.js';
import { Subscription, type SubscriptionOwner } from './subscription.js';

const subKey = (collection: string, prefix: string | undefined) => `${collection}\u0000${prefix ?? ''}`;

/** Whether two key-prefix filters of one collection select a common key (no prefix selects every key). */
const prefixesOverlap = (a: string | undefined, b: string | undefined) => a === undefined || b === undefined || a.startsWith(b) || b.startsWith(a);

const described = (prefix: string | undefined) => (prefix === undefined ? 'the whole collection' : `prefix '${prefix}'`);

/**
 * One connection's subscriptions: each admitted once (readable by the principal, overlapping
 * none of the others, within `maxSubscriptions`), all sharing one catch-up window, and fed the
 * live rounds of fan-out.
 */
export class SubscriptionSet {
  private readonly subs = new Map<string, Subscription>();
  /** Catch-up credit and turn, shared by every subscription of this connection. */
  readonly window: CatchupWindow;
  private readonly owner: SubscriptionOwner;

  constructor(
    private readonly host: SessionHost,
    owner: Omit<SubscriptionOwner, 'window'>,
  ) {
    this.window = new CatchupWindow(host.options.limits.catchupWindowBytes);
    this.owner = { ...owner, window: this.window };
  }

  /** A subscription the principal may open (its cursor not judged yet), the refusal to send, or nothing for a repeat. */
  admit(principal: Principal, request: SubscriptionRequest): Subscription | ErrorFrame | undefined {
    const { metrics, options } = this.host;
    const { collection } = request;
    if (!this.host.auth.authorize(principal, collection, undefined, 'read')) {
      metrics.rejects.inc({ code: 'forbidden' });
      return { type: 'error', code: 'forbidden', message: `principal ${principal.id} may not read ${collection}`, collection };
    }
    const prefix = request.filter?.prefix;
    const key = subKey(collection, prefix);
    if (this.subs.has(key)) return undefined;
    // Two subscriptions that select the same keys would read and send each of them twice.
    const overlapping = [...this.subs.values()].find((sub) => sub.log.collection === collection && prefixesOverlap(sub.log.prefix, prefix));
    if (overlapping !== undefined) {
      metrics.rejects.inc({ code: 'bad_message' });
      const message = `a subscription to ${collection} with ${described(prefix)} overlaps this connection's subscription with ${described(overlapping.log.prefix)}`;
      return { type: 'error', code: 'bad_message', message: message.slice(0, 1024), collection };
    }
    if (this.subs.size >= options.maxSubscriptions) {
      metrics.rejects.inc({ code: 'rate_limited' });
      return { type: 'error', code: 'rate_limited', message: `at most ${options.maxSubscriptions} subscriptions per connection`, collection };
    }
    const subscription = new Subscription(this.host, this.owner, request);
    this.subs.set(key, subscription);
    return subscription;
  }

  /** Credit from the client: for any of this connection's subscriptions (or none named), it refills the one window. */
  grant(collection: string | undefined, bytes: number): void {
    if (collection === undefined || [...this.subs.values()].some((sub) => sub.log.collection === collection)) this.window.grant(bytes);
  }

  /** The `changes` frames of a live round for every live subscription, in order; the caller sends each before the next is built. */
  *liveFrames(round: LiveRound): Generator<string, void, undefined> {
    for (const sub of this.subs.values()) yield* sub.liveFrames(round);
  }

  /** Ends catch-up turns and credit waits (the connection closed). */
  stop(): void {
    this.window.stop();
  }
}
