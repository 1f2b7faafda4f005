import { ok, type Result } from '@converge/conflict';
import type { JsonObject } from '../field-checks.js';
import { decodeSubscriptions, type Subscription } from '../subscription.js';

/**
 * client → relay: follow more logs after `hello`.
 *
 * @example
 * ```json
 * {"type":"subscribe","subscriptions":[{"collection":"orders","cursor":null,"filter":{"prefix":"user-7/"}}]}
 * ```
 */
export interface SubscribeFrame {
  readonly type: 'subscribe';
  readonly subscriptions: readonly Subscription[];
}

export function decodeSubscribe(json: JsonObject, maxItems: number): Result<SubscribeFrame> {
  const subs = decodeSubscriptions(json['subscriptions'], 'subscribe.subscriptions', maxItems, 1);
  return subs.ok ? ok({ type: 'subscribe', subscriptions: subs.value }) : subs;
}
