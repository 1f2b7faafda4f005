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
  writes: writeIds.map((writeId) => ({ writeId, collection: 'cart', status: 'local' as const })),
});

describe('the outbox log', () => {
  it('moves a write local → relay and never back; a refusal is not undone by a late ack', () => {
    const log = new EditLog('k', undefined);
    log.add(row('milk', 'w1', 'w2'));
    log.mark(['w1'], 'relay');
    log.mark(['w2'], 'refused', 'refused by the relay');
    log.mark(['w1', 'w2'], 'local');
    log.mark(['w2'], 'relay');
    expect(log.list()[0]!.writes.map((w) => w.status)).toEqual(['relay', 'refused']);
    expect(log.list()[0]!.note).toBe('refused by the relay');
  });

  it('survives a reload, and settles writes that left the outbox meanwhile: acknowledged unless refused', () => {
    const kv = memoryKv();
    const before = new EditLog('k', kv);
    before.add(row('milk', 'w1'));
    before.add(row('eggs', 'w2'));
    before.add(row('bread', 'w3'));
    const after = new EditLog('k', kv);
    expect(after.list().map((r) => r.id)).toEqual(['bread', 'eggs', 'milk']);
    after.settle(new Set(['w3']), new Set(['w2']));
    expect(after.list().map((r) => r.writes[0]!.status)).toEqual(['local', 'refused', 'relay']);
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
