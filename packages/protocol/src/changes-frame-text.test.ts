import { mergeDocStates } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { ChangesFrameBuilder, changesFrameText } from './changes-frame-text.js';
import { decodeRelayFrame, encodeFrame } from './codec.js';
import { storedStateText } from './state-json.js';
import { A, B, conflictedState, CURSOR, registerDelta, WALL } from './testing/samples.js';

const envelope = { collection: 'notes', phase: 'catchup' as const, watermark: 42, cursor: CURSOR };

describe('changes frames from stored state text', () => {
  it('copies each value slot as stored and writes seq and wall as steps; the text is what encodeFrame writes', () => {
    const docs = [
      { key: 'n-1', seq: 40, state: registerDelta(A, 1, { title: 'milk', note: 'ünïcødé 😀' }) },
      { key: 'n-2', seq: 41, state: conflictedState() },
      { key: 'n-3', seq: 42, state: registerDelta(B, 1, 'eggs') },
    ];
    const built = changesFrameText({ ...envelope, docs: docs.map((d) => ({ key: d.key, seq: d.seq, stored: storedStateText(d.state) })) });
    expect(built.text).toBe(encodeFrame({ type: 'changes', ...envelope, docs }));
    expect(built.bytes).toBe(new TextEncoder().encode(built.text).length);
    const wire = JSON.parse(built.text) as { replicas: string[]; docs: unknown[][] };
    expect(wire.replicas).toEqual([A, B]);
    expect(wire.docs[0]).toEqual(['n-1', 40, { title: 'milk', note: 'ünïcødé 😀' }, WALL + 1]);
    expect(wire.docs[1]!.slice(0, 2)).toEqual(['n-2', 1]);
    expect(wire.docs[1]![2]).toMatchObject({ r: [0, 1] });
    // Same millisecond as n-1 but logical 0, not the 1 an HLC would stamp next: written out.
    expect(wire.docs[2]).toEqual(['n-3', 1, 'eggs', 0, 1, 1, 0]);
    const decoded = decodeRelayFrame(built.text);
    expect(decoded.ok && decoded.value).toEqual({ type: 'changes', ...envelope, docs });
  });

  it('the builder counts its docs; finish gives the text and its exact UTF-8 size, text alone the text', () => {
    const fill = (builder: ChangesFrameBuilder) => {
      builder.addStored('k-é', 1, storedStateText(registerDelta(A, 1, 'x')));
      builder.addStored('k2', 2, storedStateText(mergeDocStates(registerDelta(A, 2, 'y', registerDelta(A, 1, 'x').context), registerDelta(B, 1, 'z')).state));
      return builder;
    };
    const frameEnvelope = { ...envelope, watermark: 2, cursor: { ...CURSOR, seq: 2 }, done: true as const, resync: true as const };
    const builder = fill(new ChangesFrameBuilder());
    expect(builder.count).toBe(2);
    const { text, bytes } = builder.finish(frameEnvelope);
    expect(bytes).toBe(new TextEncoder().encode(text).length);
    expect(fill(new ChangesFrameBuilder()).text(frameEnvelope)).toBe(text);
    expect(decodeRelayFrame(text)).toMatchObject({ ok: true, value: { done: true, resync: true } });
  });

  it('refuses stored text it did not write with internal, rather than send a frame a client would refuse', () => {
    for (const stored of ['', '[1,2,3,4,5]', '["A"]', '["A",1,2]', '{"v":{"A":1},"s":[]}', '{"r":[1],"v":[],"s":[]}', 'null']) {
      expect(() => new ChangesFrameBuilder().addStored('k', 1, stored), stored).toThrow(expect.objectContaining({ code: 'internal' }));
    }
  });

  it('an empty frame still carries an empty table, so it moves the watermark', () => {
    const { text } = changesFrameText({ ...envelope, docs: [] });
    expect(JSON.parse(text)).toMatchObject({ replicas: [], docs: [], watermark: 42 });
    expect(decodeRelayFrame(text).ok).toBe(true);
  });
});
