import type { ConvergeError } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { createMemoryStorage } from './storage/memory-storage.js';
import { coreFixture } from './testing/core-fixture.js';
import { dbName } from './testing/client-set.js';
import { eventually } from './testing/eventually.js';
import { scriptedRelay } from './testing/scripted-relay.js';

const open = coreFixture();

describe('StorageFailover', () => {
  it('the storage in use goes away: the client goes on in memory as a new replica, says so once, and connects afresh', async () => {
    const name = dbName('failing');
    const storage = createMemoryStorage(name);
    const relay = scriptedRelay();
    const { core } = await open({ name, storage, transport: relay.transport });
    const failures: ConvergeError[] = [];
    core.events.on('storageFailure', (e) => failures.push(e));
    const before = core.replica.replicaId;
    await core.writes.commit([{ collection: 'notes', key: 'k', ack: 'local', kind: 'put', value: { json: 1 }, read: undefined }], 'local');
    await eventually(() => expect(relay.sent.filter((f) => f.type === 'hello')).toHaveLength(1));
    storage.fail(new Error('disk gone'));
    await eventually(() => expect(core.status.get().storageFailed).toBe(true));
    expect(core.status.get()).toMatchObject({
      storage: 'memory',
      pending: 0,
      error: { code: 'storage_unavailable', message: expect.stringContaining('disk gone') },
    });
    expect(core.replica.replicaId).not.toBe(before);
    expect(core.status.get().replicaId).toBe(core.replica.replicaId);
    expect(failures).toHaveLength(1);
    await eventually(() =>
      expect(relay.sent.filter((f) => f.type === 'hello').map((f) => (f as { replicaId: string }).replicaId)).toEqual([before, core.replica.replicaId]),
    );
    storage.fail(new Error('again')); // the storage left behind: nothing more
    expect(failures).toHaveLength(1);
    expect(await core.replica.doc('notes', 'k')).toBeUndefined(); // a new, empty replica
  });

  it('IndexedDB that could not be opened is said once at start: memory storage, storageFailed, the error, one event', async () => {
    const { core } = await open({ storage: 'indexeddb' }); // no IndexedDB in Node
    expect(core.status.get()).toMatchObject({ storage: 'memory', storageFailed: true, error: { code: 'storage_unavailable' } });
  });
});
