import { describe, expect, it } from 'vitest';
import { createMemoryStorage } from '../storage/memory-storage.js';
import type { WriteStatus } from '../storage/storage-adapter.js';
import { RECENT_WRITES } from './meta-keys.js';
import { readWriteStatuses, recordSettled } from './recent-writes.js';

const status = (writeId: string, s: WriteStatus['status']): WriteStatus => ({ writeId, collection: 'c', key: writeId, status: s, at: 0 });

describe('recent write statuses', () => {
  it('a status only moves forward: a later, lower report (or a rejection after an ack) is ignored', async () => {
    const storage = createMemoryStorage();
    await storage.write((tx) => recordSettled(tx, [status('w1', 'all'), status('w2', 'relay'), status('w3', 'rejected')]));
    await storage.write((tx) => recordSettled(tx, [status('w1', 'relay'), status('w2', 'rejected'), status('w2', 'quorum'), status('w3', 'all')]));
    const read = await storage.read((tx) => readWriteStatuses(tx, ['w1', 'w2', 'w3', 'unknown']));
    expect(read.map((s) => (s === undefined ? undefined : `${s.writeId}:${s.status}`))).toEqual(['w1:all', 'w2:quorum', 'w3:rejected', undefined]);
  });

  it(`keeps the last ${RECENT_WRITES} writes`, async () => {
    const storage = createMemoryStorage();
    const ids = Array.from({ length: RECENT_WRITES + 5 }, (_, i) => `w${i}`);
    await storage.write((tx) =>
      recordSettled(
        tx,
        ids.slice(0, 10).map((id) => status(id, 'relay')),
      ),
    );
    await storage.write((tx) =>
      recordSettled(
        tx,
        ids.slice(10).map((id) => status(id, 'relay')),
      ),
    );
    const read = (await storage.read((tx) => readWriteStatuses(tx, ids))).filter((s) => s !== undefined);
    expect(read).toHaveLength(RECENT_WRITES);
    expect(read[0]!.writeId).toBe('w5');
  });
});
