import type { ErrorCode } from '@converge/conflict';
import { negotiateProtocol, type CollectionInfo, type HelloFrame, type WelcomeFrame } from '@converge/protocol';
import type { Principal } from '../auth/auth.js';
import { NO_REPLICATION, type WriteHead } from '../store/relay-store.js';
import type { SessionHost } from './session-host.js';

/** What a `hello` establishes, or why it is refused (the session sends the error and closes). */
export type Handshake =
  { readonly ok: true; readonly protocol: number; readonly principal: Principal } | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/**
 * Judges a `hello`: a protocol version both sides speak, a token `authenticate` accepts,
 * collection declarations that match the relay's configuration, and — with auth — a replica id
 * that is this principal's (bound to the first principal that used it, so nobody else mints
 * its dots).
 */
export async function shakeHands(host: SessionHost, frame: HelloFrame): Promise<Handshake> {
  const protocol = negotiateProtocol(frame.protocol);
  if (protocol === undefined) return { ok: false, code: 'bad_message', message: `protocol ${frame.protocol} is not supported` };
  const principal = await host.auth.authenticate(frame.token);
  if (principal === undefined) return { ok: false, code: 'unauthorized', message: 'the token was refused' };
  for (const [name, declared] of Object.entries(frame.collections ?? {})) {
    const config = host.collections.get(name);
    if (config.mode !== declared.mode || config.strategy !== declared.strategy) {
      const message = `collection ${name} is ${config.mode}/${config.strategy} at the relay; the client declared ${declared.mode}/${declared.strategy}`;
      return { ok: false, code: 'bad_message', message };
    }
  }
  if (!host.auth.anonymous && (await host.store.claimReplica(frame.replicaId, principal.id)) !== principal.id) {
    return { ok: false, code: 'forbidden', message: `replica id ${frame.replicaId} belongs to another principal` };
  }
  return { ok: true, protocol, principal };
}

/**
 * The `welcome` for an accepted `hello`: every configured collection and every subscribed one
 * with its head — 0 for a collection the principal may not read, since a log's length is data
 * too — and the highest write number seen from the replica id.
 */
export async function welcomeFor(host: SessionHost, frame: HelloFrame, protocol: number, principal: Principal): Promise<WelcomeFrame> {
  const { store } = host;
  const collections: Record<string, CollectionInfo> = Object.create(null) as Record<string, CollectionInfo>;
  const names = [...new Set([...host.collections.declared().keys(), ...frame.subscriptions.map((s) => s.collection)])];
  const [heads, writeHead, recovery] = await Promise.all([
    Promise.all(names.map(async (name) => (host.auth.authorize(principal, name, undefined, 'read') ? (await store.head(name)).seq : 0))),
    store.writeHead(frame.replicaId),
    host.recovery.isOpen(),
  ]);
  names.forEach((name, i) => {
    collections[name] = { ...host.collections.get(name), head: heads[i]! };
  });
  return {
    type: 'welcome',
    protocol,
    relayId: host.options.relayId,
    lineage: store.lineage,
    epoch: 0,
    now: host.options.now(),
    ...writeHeadFields(writeHead),
    // What the store's replication provides as last read: {0, 0} without synchronous standbys.
    replication: replicationOf(store),
    ...(recovery ? { recovery: true } : {}),
    limits: host.options.limits,
    collections,
  };
}

/** `welcome.replication`: the store's N standbys and the k that confirm `quorum`. */
function replicationOf(store: SessionHost['store']): { standbys: number; quorum: number } {
  const { standbys, quorum } = store.replication?.() ?? NO_REPLICATION;
  return { standbys, quorum };
}

/** `welcome`'s fields for the replica's latest write. */
function writeHeadFields(head: WriteHead): { writeNumber: number; writeChain: string } {
  return { writeNumber: head.writeNumber, writeChain: head.chain };
}
