import { describe, expect, it } from 'vitest';
import { metaCheck } from './export-meta.js';
import { cursorKey, floorKey, floorsKey, META } from './meta-keys.js';

describe('the meta entries an export carries', () => {
  it('every key meta-keys.ts defines has a check, so an export never holds an entry an import refuses', () => {
    for (const key of [...Object.values(META), floorKey('notes', 'a\u0000b'), floorsKey('notes'), cursorKey('notes'), cursorKey('notes', 'pre')]) {
      expect(metaCheck(key), key).toBeTypeOf('function');
    }
  });

  it('keys no module defines, or with a bad collection name or key, have none', () => {
    for (const key of [
      'other',
      'floor',
      'floor\u0000notes',
      'floors\u0000bad name',
      'floor\u0000notes\u0000',
      'cursor\u0000__proto__\u0000',
      'recent\u0000x',
    ]) {
      expect(metaCheck(key), JSON.stringify(key)).toBeUndefined();
    }
  });

  it('a value is checked and copied: known fields only; a wrong one is bad_message naming its path', () => {
    const replica = metaCheck(META.replica)!;
    expect(replica({ id: 'R1', writeNumber: 3, retired: ['R0'], extra: 1 }, 'meta')).toEqual({ id: 'R1', writeNumber: 3, retired: ['R0'] });
    expect(() => replica({ id: 'R1', writeNumber: -1, retired: [] }, 'meta')).toThrow(
      expect.objectContaining({ code: 'bad_message', path: 'meta.writeNumber' }),
    );
    expect(() => metaCheck(META.recent)!([{ writeId: 'w', collection: 'c', key: 'k', status: 'sent', at: 1 }], 'meta')).toThrow(
      expect.objectContaining({ path: 'meta[0].status' }),
    );
    const collections = metaCheck(META.collections)!({ carts: { mode: 'multi-leader', strategy: 'cart' } }, 'meta') as object;
    expect(Object.getPrototypeOf(collections)).toBeNull();
    expect(() => metaCheck(cursorKey('notes'))!({ lineage: 'L', seq: -1, hash: 'h', mac: 'm' }, 'meta')).toThrow(
      expect.objectContaining({ code: 'bad_message' }),
    );
  });
});
