import type { WriteStatus } from '@converge/client';
import { describe, expect, it } from 'vitest';
import { EditLog, type KeyValue } from './edit-log.js';

const memoryKv = (): KeyValue & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
};

const row = (id: string, ...writeIds: string[]) => ({
  id,
  label: `+1 ${id}`,
  at: 1,
  writes: writeIds.map((writeId) => ({ writeId, collection: 'cart' })),
});

const status = (writeId: string, level: WriteStatus['status']): WriteStatus => ({ writeId, collection: 'cart', key: 'family-cart', status: level, at: 1 });

describe('the outbox log', () => {
  it("a user action's row takes the place of rows listed for its writes from the outbox alone, keeping their note", () => {
    const log = new EditLog('k', undefined);
    log.add(row('older', 'w0'));
    log.add({ ...row('w1', 'w1'), label: 'milk 1', note: "LWW dropped laptop's cart (milk 3)" });
    log.add({ ...row('w2', 'w2'), label: '+1 milk' });
    log.add(row('milk', 'w1', 'w2', 'w3'));
    expect(log.list().map((r) => [r.label, r.note])).toEqual([
      ['+1 milk', "LWW dropped laptop's cart (milk 3)"],
      ['+1 older', undefined],
    ]);
  });

  it("shows the client's status of each write: local when made, then what watchOutbox reports; a status read after a reload never replaces a newer one", () => {
    const log = new EditLog('k', undefined);
    log.add(row('milk', 'w1', 'w2'));
    log.add(row('eggs', 'w3'));
    log.learn([status('w1', 'relay')]);
    log.learn([status('w1', 'local'), status('w3', 'rejected'), status('w0', 'relay')], true);
    log.mark(['w3'], 'discarded', 'discarded');
    expect(log.list().map((r) => r.writes.map((w) => w.status))).toEqual([['discarded'], ['relay', 'local']]);
  });

  it('after a reload a write is unknown until the client says where it stands', () => {
    const kv = memoryKv();
    new EditLog('k', kv).add(row('tea', 'w5', 'w6'));
    const reloaded = new EditLog('k', kv);
    reloaded.learn([status('w5', 'all'), undefined], true);
    expect(reloaded.list()[0]!.writes.map((w) => w.status)).toEqual(['all', 'unknown']);
  });

  it('notes what became of a refused write and why, and keeps it across a reload', () => {
    const kv = memoryKv();
    const before = new EditLog('k', kv);
    before.add(row('mug', 'w1'));
    before.add(row('cup', 'w2'));
    before.mark(['w1'], 'rebased', 'refused: the stock changed first; bought again on the current stock');
    before.mark(['w2'], undefined, 'refused by the relay (forbidden)');
    before.mark(['unknown'], 'discarded', 'discarded');
    const after = new EditLog('k', kv);
    expect(after.list().map((r) => [r.writes[0]!.outcome, r.note])).toEqual([
      [undefined, 'refused by the relay (forbidden)'],
      ['rebased', 'refused: the stock changed first; bought again on the current stock'],
    ]);
  });

  it('counts pending edits, not writes: one user action that wrote three carts is one edit; a pending write no row lists counts alone', () => {
    const log = new EditLog('k', undefined, 2);
    log.add(row('milk', 'w1', 'w2', 'w3'));
    expect(log.pendingEdits(['w1', 'w2', 'w3'])).toBe(1);
    log.add(row('eggs', 'w4', 'w5', 'w6'));
    expect(log.pendingEdits(['w2', 'w4', 'w5', 'w6'])).toBe(2);
    log.add(row('tea', 'w7')); // the log keeps two rows: milk's writes are listed by none
    expect(log.pendingEdits(['w1', 'w2', 'w3', 'w4', 'w7'])).toBe(5);
    expect(log.pendingEdits([])).toBe(0);
  });

  it('keeps the newest rows only, and ignores a corrupt saved log', () => {
    const kv = memoryKv();
    const log = new EditLog('k', kv, 2);
    for (const id of ['a', 'b', 'c']) log.add(row(id, id));
    expect(log.list().map((r) => r.id)).toEqual(['c', 'b']);
    kv.map.set('k', '{not json');
    expect(new EditLog('k', kv).list()).toEqual([]);
  });
});
