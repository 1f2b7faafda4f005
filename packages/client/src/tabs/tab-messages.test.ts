import { describe, expect, it } from 'vitest';
import { envelope, readTabMessage, TAB_PROTOCOL, type TabMessage } from './tab-messages.js';

const EVERY_TYPE: TabMessage[] = [
  { type: 'changed', collection: 'notes', keys: ['a', 'b'], outbox: true },
  { type: 'acked', writeIds: ['R:1'], level: 'quorum' },
  { type: 'rejected', writes: [{ writeId: 'R:2', collection: 'notes', key: 'k', code: 'forbidden', message: 'no', rebased: false }] },
  { type: 'status', connection: 'synced', positions: { notes: 4 }, error: undefined },
  { type: 'status', connection: 'offline', positions: {}, error: { code: 'offline', message: 'gone' } },
  { type: 'status?' },
  { type: 'read', id: 'R:1', collection: 'notes', keys: ['k'] },
  { type: 'read-done', id: 'R:1', error: { code: 'timeout', message: 'late' } },
  { type: 'collection', name: 'carts' },
  { type: 'replica' },
  { type: 'destroyed' },
];

describe('tab messages', () => {
  it('every message travels with the tab protocol version and reads back as sent', () => {
    for (const message of EVERY_TYPE) {
      expect(envelope(message).v).toBe(TAB_PROTOCOL);
      expect(readTabMessage(structuredClone(envelope(message)))).toEqual({ ok: true, message });
    }
  });

  it("another build's message — another version, or none (a build from before versions) — is refused, naming its version", () => {
    const changed = EVERY_TYPE[0]!;
    expect(readTabMessage({ ...changed, v: TAB_PROTOCOL + 1 })).toMatchObject({ ok: false, version: TAB_PROTOCOL + 1 });
    expect(readTabMessage(changed)).toMatchObject({ ok: false, version: undefined, problem: expect.stringContaining('(none)') });
  });

  it('a malformed message is refused before anything reads it: not an object, an unknown type, a missing or mistyped field, a code Converge does not have', () => {
    const v = TAB_PROTOCOL;
    const refused = [
      null,
      'changed',
      [],
      { v, type: 'reboot' },
      { v, type: 'changed', collection: 'notes', keys: 'k', outbox: true },
      { v, type: 'changed', collection: 'notes', keys: ['k'] },
      { v, type: 'acked', writeIds: ['R:1'], level: 'most' },
      { v, type: 'rejected', writes: [{ writeId: 'R:2', collection: 'notes', key: 'k', code: 'oops', message: '', rebased: false }] },
      { v, type: 'status', connection: 'synced', positions: { notes: -1 }, error: undefined },
      { v, type: 'read-done', id: 'R:1', error: 'timeout' },
      { v, type: 'collection' },
    ];
    for (const data of refused) expect(readTabMessage(data), JSON.stringify(data)).toMatchObject({ ok: false });
  });
});
