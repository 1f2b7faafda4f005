import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Cursor } from '@converge/protocol';

/** What a cursor is a position in: (lineage, collection, filter) is its log id. */
export interface LogId {
  readonly collection: string;
  readonly prefix: string | undefined;
}

function macOf(secret: Buffer, log: LogId, lineage: string, seq: number, hash: string): string {
  return createHmac('sha256', secret)
    .update(JSON.stringify([lineage, log.collection, log.prefix ?? '', seq, hash]))
    .digest('base64url');
}

/** Signs a position of a log with the relay's cursor key (from its configuration, never its database). */
export function signCursor(secret: Buffer, log: LogId, lineage: string, seq: number, hash: string): Cursor {
  return { lineage, seq, hash, mac: macOf(secret, log, lineage, seq, hash) };
}

/** True when this relay signed exactly this cursor for this log. */
export function verifyCursor(secret: Buffer, log: LogId, cursor: Cursor): boolean {
  const expected = Buffer.from(macOf(secret, log, cursor.lineage, cursor.seq, cursor.hash));
  const given = Buffer.from(cursor.mac);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
