import { fail, ok, replicaIdProblem, type ReplicaId, type Result } from '@converge/conflict';
import { decodeCollectionMap, type CollectionDeclaration } from '../collection-config.js';
import { safeIntegerProblem, stringProblem, type JsonObject } from '../field-checks.js';
import { decodeSubscriptions, type Subscription } from '../subscription.js';
import { unsupportedProtocolMessage } from '../version.js';

/** Longest auth token in `hello`. */
export const MAX_TOKEN_LENGTH = 8192;

/**
 * client → relay, first frame on every connection. Auth travels here, never in the URL.
 *
 * @example
 * ```json
 * {"type":"hello","protocol":3,"replicaId":"q3JbX0f2LkH8aPzR","token":"eyJhbGciOi…",
 *  "subscriptions":[{"collection":"carts","cursor":null}],
 *  "collections":{"carts":{"mode":"multi-leader","strategy":"cart"}}}
 * ```
 */
export interface HelloFrame {
  readonly type: 'hello';
  /**
   * The newest protocol version the client speaks (`PROTOCOL_VERSION`). A version this relay
   * cannot speak is refused when the frame is decoded: `bad_message` at `hello.protocol`,
   * "protocol 2 is not supported: this relay speaks 3".
   */
  readonly protocol: number;
  readonly replicaId: ReplicaId;
  readonly token?: string;
  readonly subscriptions: readonly Subscription[];
  /** The client's declaration of its collections; the relay's configuration wins. */
  readonly collections?: Readonly<Record<string, CollectionDeclaration>>;
}

export function decodeHello(json: JsonObject, maxItems: number): Result<HelloFrame> {
  const { protocol, replicaId, token, subscriptions, collections } = json;
  let problem = safeIntegerProblem(protocol, 1) ?? unsupportedProtocolMessage(protocol as number, 'relay');
  if (problem !== undefined) return fail('hello.protocol', problem);
  problem = replicaIdProblem(replicaId);
  if (problem !== undefined) return fail('hello.replicaId', problem);
  if (token !== undefined) {
    problem = stringProblem(token, 1, MAX_TOKEN_LENGTH);
    if (problem !== undefined) return fail('hello.token', problem);
  }
  const subs = decodeSubscriptions(subscriptions, 'hello.subscriptions', maxItems, 0);
  if (!subs.ok) return subs;
  const base = { type: 'hello', protocol: protocol as number, replicaId: replicaId as string, subscriptions: subs.value } as const;
  const withToken = token === undefined ? base : { ...base, token: token as string };
  if (collections === undefined) return ok(withToken);
  const declared = decodeCollectionMap<CollectionDeclaration>(collections, 'hello.collections', maxItems, false);
  if (!declared.ok) return declared;
  return ok({ ...withToken, collections: declared.value });
}
