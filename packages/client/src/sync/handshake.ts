import { ConvergeError, type ReplicaId } from '@converge/conflict';
import type { Cursor, HelloFrame, WelcomeFrame } from '@converge/protocol';
import { declarationOf, type CollectionSpec } from '../collection-spec.js';
import type { SessionContext } from './session-context.js';
import { CLIENT_PROTOCOL } from './wire.js';

/** What `hello` asked for: the collections subscribed to, with their stored cursors. */
export interface HelloSent {
  readonly replicaId: ReplicaId;
  readonly subscriptions: readonly { readonly collection: string; readonly cursor: Cursor | null }[];
}

/** A collection this client declares otherwise than the relay's configuration (which is authoritative). */
function declarationConflict(specs: readonly CollectionSpec[], frame: WelcomeFrame): ConvergeError | undefined {
  for (const spec of specs) {
    const info = frame.collections[spec.name];
    if (info !== undefined && spec.declared && (info.mode !== spec.mode || info.strategy !== spec.strategy)) {
      return new ConvergeError(
        'bad_message',
        `collection ${spec.name} is ${info.mode}/${info.strategy} at the relay; this client declares ${spec.mode}/${spec.strategy}`,
        {
          path: `collections.${spec.name}`,
        },
      );
    }
  }
  return undefined;
}

/**
 * The session's opening: `hello` (the replica id, the token, a subscription per collection
 * with its stored cursor, the declared collections), then the checks of `welcome` — declarations
 * that differ from the relay's are fatal; the clock offset is measured around the exchange; the
 * replica learns the limits and compares the relay's write number (identity loss).
 */
export class Handshake {
  #sentAt = 0;

  readonly #ctx: SessionContext;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  /**
   * Builds `hello` (the token is asked for here, on each connect). Undefined when the session
   * ended meanwhile or the app's auth function failed (then the session is closed, `unauthorized`).
   */
  async hello(): Promise<{ readonly frame: HelloFrame; readonly sent: HelloSent } | undefined> {
    const { host } = this.#ctx;
    const specs = host.collections();
    let token: string | undefined;
    try {
      token = await host.token(false);
    } catch (error) {
      // The app's auth function failed (its token service unreachable, say): no identity to connect with.
      const message = `the auth function failed: ${error instanceof Error ? error.message : String(error)}`;
      this.#ctx.close({ kind: 'retry', error: new ConvergeError('unauthorized', message, { cause: error }) });
      return undefined;
    }
    const [record, cursors] = await Promise.all([host.replica.record(), host.replica.cursors(specs.map((s) => s.name))]);
    const replicaId = record?.id ?? (await host.replica.open()).id;
    if (this.#ctx.closed) return undefined;
    const subscriptions = specs.map((spec, i) => ({ collection: spec.name, cursor: cursors[i] ?? null }));
    const declared = specs.filter((s) => s.declared);
    this.#sentAt = host.now();
    const frame: HelloFrame = {
      type: 'hello',
      protocol: CLIENT_PROTOCOL,
      replicaId,
      ...(token === undefined ? {} : { token }),
      subscriptions,
      ...(declared.length === 0 ? {} : { collections: Object.fromEntries(declared.map((s) => [s.name, declarationOf(s)])) }),
    };
    return { frame, sent: { replicaId, subscriptions } };
  }

  /**
   * Checks `welcome` and has the replica learn from it. `open`: the session may go on; otherwise
   * it has been closed (a fatal declaration, another tab's new id) or a new id is being minted.
   */
  async welcome(frame: WelcomeFrame): Promise<'open' | 'ended'> {
    const { host } = this.#ctx;
    const conflict = declarationConflict(host.collections(), frame);
    if (conflict !== undefined) {
      this.#ctx.close({ kind: 'fatal', error: conflict });
      return 'ended';
    }
    const offsetMs = frame.now - Math.round((this.#sentAt + host.now()) / 2);
    const verdict = await host.replica.afterWelcome({
      replicaId: this.#ctx.helloId,
      writeNumber: frame.writeNumber,
      writeChain: frame.writeChain,
      now: frame.now,
      offsetMs,
      limits: frame.limits,
      collections: frame.collections,
    });
    if (verdict === 'id_changed') {
      this.#ctx.close({ kind: 'now' }); // another tab gave the replica a new id: hello again with it
      return 'ended';
    }
    if (verdict === 'identity_lost') {
      await this.#ctx.replaceIdentity();
      return 'ended';
    }
    return 'open';
  }
}
