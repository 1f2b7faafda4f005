import { EMPTY_CONTEXT, emptyDocState, writeDoc, type Dot } from '@converge/conflict';
import type { WireValue } from '@converge/protocol';
import { describe, expect, it } from 'vitest';
import { failingCommits, replicaFixture } from '../testing/replica-fixture.js';

const remote = (dot: Dot, value: string, readContext = EMPTY_CONTEXT) =>
  writeDoc<WireValue>(emptyDocState(), { dot, hlc: { wall: 5000 + dot[1], logical: 0, replica: dot[0] }, readContext, value: { json: value } }).state;
const cursor = { lineage: 'L1', seq: 9, hash: 'h9', mac: 'm9' };

describe('applying changes from the relay (applyRemoteDocs)', () => {
  it("a key the replica does not hold adopts the relay's state as it came (no merge, no copy), at its seq", async () => {
    const { replica } = await replicaFixture();
    const state = remote(['R', 1], 'theirs');
    const applied = await replica.applyRemote('notes', [{ key: 'k', seq: 4, state }], cursor);
    expect(applied.changes.map((c) => [c.key, c.record?.seq])).toEqual([['k', 4]]);
    expect(applied.changes[0]!.record!.state).toBe(state);
    expect(await replica.cursors(['notes'])).toEqual([cursor]);
  });

  it('under a pending write the relay state joins both the state the app reads and the base; the pending write stays in the state only', async () => {
    const { replica, put, values } = await replicaFixture();
    const [mine] = await replica.write([put('k', 'mine')]);
    await replica.applyRemote('notes', [{ key: 'k', seq: 4, state: remote(['R', 1], 'theirs') }]);
    const record = await replica.doc('notes', 'k');
    expect(values(record).sort()).toEqual(['mine', 'theirs']);
    expect(values({ ...record!, state: record!.base! })).toEqual(['theirs']);
    expect(record?.state.siblings.map((s) => s.dot)).toContainEqual(mine!.dot);
  });

  it('a frame that names a key twice merges both; a state already held changes nothing and reports nothing', async () => {
    const { replica, values } = await replicaFixture();
    const one = remote(['R', 1], 'one');
    const two = remote(['S', 1], 'two');
    const applied = await replica.applyRemote('notes', [
      { key: 'k', seq: 2, state: one },
      { key: 'k', seq: 3, state: two },
    ]);
    expect(applied.changes).toHaveLength(2);
    expect(values(await replica.doc('notes', 'k'))).toEqual(['one', 'two']);
    const again = await replica.applyRemote('notes', [{ key: 'k', seq: 3, state: one }]);
    expect(again.changes).toEqual([]);
  });

  it("this replica's own dot arriving with other content is reported as reused (the id was reused)", async () => {
    const { replica, put } = await replicaFixture();
    const [mine] = await replica.write([put('k', 'mine')]);
    const applied = await replica.applyRemote('notes', [{ key: 'k', seq: 2, state: remote(mine!.dot, 'forged') }]);
    expect(applied.reused).toEqual([mine!.dot]);
  });

  it('the cursor is stored in the transaction that applies the states: a failed commit keeps neither', async () => {
    const storage = failingCommits();
    const { replica } = await replicaFixture({ storage: storage.adapter });
    storage.failNextCommit();
    await expect(replica.applyRemote('notes', [{ key: 'k', seq: 9, state: remote(['R', 1], 'x') }], cursor)).rejects.toThrow('disk error');
    expect(await replica.doc('notes', 'k')).toBeUndefined();
    expect(await replica.cursors(['notes'])).toEqual([null]);
  });
});
