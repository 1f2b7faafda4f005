import { describe, expect, it } from 'vitest';
import { relayClientSet } from '../testing/client-set.js';

const clients = relayClientSet();

describe('catch-up credit (a real relay)', () => {
  it('a catch-up many windows long completes: the relay waits for credit after each window and the client grants it back', async () => {
    // 6 docs per frame of ~100 B each: ~600 B frames against a 2,000 B window, so the relay stops
    // after every few frames until the client grants credit back.
    await clients.startRelay({ store: 'memory', limits: { catchupWindowBytes: 2000, maxChangesPerFrame: 6 } });
    const writer = await clients.open('credit-writer');
    await writer.batch((b) => {
      const notes = b.collection('notes');
      for (let i = 0; i < 300; i++) notes.put(`n${String(i).padStart(3, '0')}`, { text: `note ${i}`, done: i % 2 === 0 });
    });
    await writer.whenSynced({ timeoutMs: 10_000 });
    const reader = await clients.open('credit-reader');
    const notes = reader.collection<{ text: string }>('notes');
    await reader.whenSynced({ timeoutMs: 10_000 });
    const read = await notes.scan();
    expect(read).toHaveLength(300);
    expect(read[299]?.value.text).toBe('note 299');
  });
});
