import { chainMark, chainWrite, sameDot, WRITE_CHAIN_ZERO, type Dot, type WriteChain } from '@converge/conflict';
import type { WireState } from '@converge/protocol';
import type { OutboxEntry, ReplicaRecord, StorageReader, StorageWriter, WriteMark } from '../storage/storage-adapter.js';
import { META } from './meta-keys.js';

/**
 * The replica's write chain (see `chainWrite` in @converge/conflict): extended with every write
 * in the transaction that allocates its write number, carried by each outbox entry and push, and
 * compared with the relay's after `welcome`. An older copy of this database (a restored backup,
 * storage lost while the replica id was kept) has made other writes under write numbers the
 * relay has already seen; its chain at those numbers differs, so it takes a new replica id
 * before any of its dots can be absorbed as "already seen".
 */

/** The chain of a database from before chains: nothing is compared. */
const UNKNOWN = undefined;

/** The chain after the write whose delta is `delta` and whose dot is `dot`. */
export function chainAfterWrite(chain: WriteChain | undefined, collection: string, key: string, delta: WireState, dot: Dot): WriteChain {
  const sibling = delta.siblings.find((s) => sameDot(s.dot, dot));
  if (sibling === undefined) throw new Error(`the delta of ${collection}/${key} does not carry its own write ${dot.join(':')}`);
  return chainWrite(chain ?? WRITE_CHAIN_ZERO, collection, key, sibling);
}

/** The chain after a write number allocated for a re-push of full states. */
export function chainAfterResync(chain: WriteChain | undefined): WriteChain {
  return chainMark(chain ?? WRITE_CHAIN_ZERO, 'resync');
}

/**
 * Allocates one write number for a re-push of full states (resync), in the transaction that
 * read `rep`: the relay learns it as this replica's latest, so it is kept (`META.resyncWrite`)
 * for the check after `welcome`.
 */
export function markResync(tx: StorageWriter, rep: ReplicaRecord): WriteMark {
  const mark: WriteMark = { writeNumber: rep.writeNumber + 1, chain: chainAfterResync(rep.chain) };
  tx.putMeta(META.replica, { ...rep, ...mark });
  tx.putMeta(META.resyncWrite, mark);
  return mark;
}

/** Records the latest write of an answered push (the relay noted it), keeping the highest. */
export async function noteAnswered(tx: StorageWriter, entries: readonly OutboxEntry[]): Promise<void> {
  let latest: OutboxEntry | undefined;
  for (const entry of entries) if (latest === undefined || entry.writeNumber > latest.writeNumber) latest = entry;
  if (latest?.chain === undefined) return;
  const known = await tx.getMeta<WriteMark>(META.answered);
  if (known !== undefined && known.writeNumber >= latest.writeNumber) return;
  tx.putMeta(META.answered, { writeNumber: latest.writeNumber, chain: latest.chain });
}

/**
 * Whether this database made the write the relay names as the replica's latest (`welcome`'s
 * write number and chain): `same`, `other` (this database went back in time: identity loss), or
 * `unknown` when nothing here can tell (a relay or database from before chains, or a relay
 * that lost data and names a write older than one it has answered).
 *
 * The relay has seen only writes this database pushed; a pushed write is in the outbox until
 * its push is answered, and an answer records its latest write (`noteAnswered`) in the same
 * transaction that empties the outbox of it. So the relay's latest write is the replica's
 * current one, the last answered, the last re-push, or an outbox entry — else it is another
 * database's.
 */
export async function relayHeadStanding(tx: StorageReader, rep: ReplicaRecord, head: WriteMark): Promise<'same' | 'other' | 'unknown'> {
  if (head.writeNumber === 0) return 'same';
  if (head.writeNumber > rep.writeNumber) return 'other';
  if (head.chain === WRITE_CHAIN_ZERO || rep.chain === UNKNOWN) return 'unknown';
  const compare = (chain: WriteChain | undefined) => (chain === UNKNOWN ? 'unknown' : chain === head.chain ? 'same' : 'other');
  if (head.writeNumber === rep.writeNumber) return compare(rep.chain);
  const [answered, resync] = await Promise.all([tx.getMeta<WriteMark>(META.answered), tx.getMeta<WriteMark>(META.resyncWrite)]);
  if (answered?.writeNumber === head.writeNumber) return compare(answered.chain);
  if (resync?.writeNumber === head.writeNumber) return compare(resync.chain);
  const entry = (await tx.listOutbox()).find((e) => e.writeNumber === head.writeNumber);
  if (entry !== undefined) return compare(entry.chain);
  if (answered !== undefined && head.writeNumber < answered.writeNumber) return 'unknown';
  return 'other';
}
