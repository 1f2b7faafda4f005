// Protocol 2 against the laws: states that went through every wire form come back exactly,
// and conflict's merge-law and history suites hold unchanged when states travel through them.
import { cart, crdtStateFromJson, crdtStateToJson, encodeDocState, mergeDocStates, type DocState } from '@converge/conflict';
import { arbHistoryOptions, mergeLawProperties, propertyOptions, runCartHistory, runRegisterHistory, type CartState } from '@converge/conflict/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changesFrameText } from './changes-frame-text.js';
import { decodeClientFrame, decodeRelayFrame, encodeFrame } from './codec.js';
import { parseStoredState, storedStateText } from './state-json.js';
import { arbCursor, arbKey, arbWireState } from './testing/arbitraries.js';
import { CURSOR } from './testing/samples.js';
import { decodeValue, encodeValue } from './value-codec.js';
import type { ChangesFrame } from './frames/changes.js';
import type { CrdtValueJson, WireState, WireValue } from './wire-state.js';

const text = (state: WireState): string => JSON.stringify(encodeDocState(state));

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/**
 * A state as a client pushes it, decoded by the relay. A push carries writes, so a state without
 * a sibling (a merge of contexts alone) is refused there and travels only in the other forms.
 */
function viaPush(state: WireState): WireState {
  const decoded = decodeClientFrame(
    encodeFrame({ type: 'push', id: 'p', ack: 'relay', changes: [{ collection: 'c', key: 'k', delta: state, writeNumber: 1, chain: '1' }] }),
  );
  if (state.siblings.length === 0) {
    check(!decoded.ok && decoded.error.path === 'push.changes[0].delta.siblings', 'a push of a state without siblings was not refused');
    return state;
  }
  if (!decoded.ok) throw decoded.error;
  if (decoded.value.type !== 'push') throw new Error('not a push');
  return decoded.value.changes[0]!.delta;
}

/** A state as the relay stores it and serves it in a `changes` frame built from the stored text, decoded by a client. */
function viaStoredText(state: WireState): WireState {
  const stored = storedStateText(state);
  const { text } = changesFrameText({ collection: 'c', phase: 'live', docs: [{ key: 'k', seq: 5, stored }], watermark: 5, cursor: { ...CURSOR, seq: 5 } });
  const decoded = decodeRelayFrame(text);
  if (!decoded.ok) throw decoded.error;
  if (decoded.value.type !== 'changes') throw new Error('not a changes frame');
  return decoded.value.docs[0]!.state;
}

/** Every wire form must give back exactly the state that went in. */
function throughWire(state: WireState): WireState {
  const pushed = viaPush(state);
  const served = viaStoredText(pushed);
  check(text(pushed) === text(state), `push changed the state:\n  ${text(state)}\n  ${text(pushed)}`);
  check(text(served) === text(state), `stored text changed the state:\n  ${text(state)}\n  ${text(served)}`);
  return served;
}

function mapValues<A, B>(state: DocState<A>, f: (value: A) => B): DocState<B> {
  return { context: state.context, siblings: state.siblings.map((s) => (s.deleted === true ? s : { dot: s.dot, hlc: s.hlc, value: f(s.value) })) };
}

/** A register state of numbers through the wire: written with encodeValue, read with decodeValue. */
const registerThroughWire = (state: DocState<number>): DocState<number> =>
  mapValues(throughWire(mapValues(state, (v): WireValue => encodeValue(v))), (v) => {
    const read = decodeValue(v);
    if (!read.ok) throw read.error;
    return read.value as number;
  });

/** A cart state through the wire: its CRDT value as `{s, c}` JSON, structurally checked on the way back. */
const cartThroughWire = (state: DocState<CartState>): DocState<CartState> =>
  mapValues(throughWire(mapValues(state, (v): WireValue => crdtStateToJson(cart, v) as CrdtValueJson)), (v) => {
    const read = crdtStateFromJson(cart, v);
    if (!read.ok) throw read.error;
    return read.value;
  });

describe('protocol 2 gives back exactly what went in', () => {
  it('a changes frame built from stored texts decodes (untrusted decoder) to exactly the stored states, and equals encodeFrame', () => {
    const arbDocs = fc.uniqueArray(fc.record({ key: arbKey, state: arbWireState, gap: fc.integer({ min: 1, max: 3 }) }), {
      selector: (d) => d.key,
      maxLength: 8,
    });
    fc.assert(
      fc.property(arbDocs, arbCursor, fc.boolean(), (docs, cursor, done) => {
        let seq = cursor.seq;
        const withSeqs = docs.map((d) => ({ key: d.key, seq: (seq += d.gap), state: d.state }));
        const envelope = {
          collection: 'notes',
          phase: 'catchup' as const,
          watermark: seq,
          cursor: { ...cursor, seq },
          ...(done ? { done: true as const } : {}),
        };
        const stored = withSeqs.map((d) => ({ key: d.key, seq: d.seq, stored: storedStateText(d.state) }));
        const built = changesFrameText({ ...envelope, docs: stored });
        expect(built.bytes).toBe(new TextEncoder().encode(built.text).length);
        expect(built.text).toBe(encodeFrame({ type: 'changes', ...envelope, docs: withSeqs }));
        const decoded = decodeRelayFrame(built.text);
        if (!decoded.ok) throw decoded.error;
        expect(decoded.value).toEqual({ type: 'changes', ...envelope, docs: withSeqs });
        for (let i = 0; i < withSeqs.length; i++) {
          const state = (decoded.value as ChangesFrame).docs[i]!.state;
          expect(text(state)).toBe(text(withSeqs[i]!.state));
        }
      }),
      propertyOptions(),
    );
  });

  it('stored text reads back as the state it was written from, and writes the same text again', () => {
    fc.assert(
      fc.property(arbWireState, (state) => {
        const stored = storedStateText(state);
        const back = parseStoredState(stored);
        if (!back.ok) throw back.error;
        expect(back.value).toEqual(state);
        expect(storedStateText(back.value)).toBe(stored);
      }),
      propertyOptions(),
    );
  });
});

describe("conflict's merge laws hold over states that went through the wire", () => {
  for (const [name, property] of mergeLawProperties(registerThroughWire)) {
    it(name, () => fc.assert(property, propertyOptions({ share: 0.3 })));
  }
});

describe('random histories against the oracle, every delta and full state sent through the wire', () => {
  it('register histories: every replica equals the exact causal-history oracle after every step', () => {
    fc.assert(
      fc.property(arbHistoryOptions(80), (o) => {
        runRegisterHistory({ ...o, keys: 2, checkEveryStep: true, transport: registerThroughWire });
      }),
      propertyOptions({ share: 0.1 }),
    );
  });

  it('cart histories (orMap of counters inside DVV siblings, stale tabs) agree with the add-wins specification', () => {
    fc.assert(
      fc.property(arbHistoryOptions(80), (o) => {
        runCartHistory({ ...o, replicas: Math.min(o.replicas, 3), checkEveryStep: true, transport: cartThroughWire });
      }),
      propertyOptions({ share: 0.1 }),
    );
  });

  it('a cart joined from states that went through the wire equals the cart joined from the originals', () => {
    fc.assert(
      fc.property(arbHistoryOptions(60), (o) => {
        const net = runCartHistory({ ...o, replicas: Math.min(o.replicas, 3), unsettled: true });
        const states = net.replicas.map((r) => net.state(r, 'cart'));
        const joined = states.reduce((a, b) => mergeDocStates(a, b).state);
        const joinedWire = states.map(cartThroughWire).reduce((a, b) => mergeDocStates(a, b).state);
        const cartText = (s: DocState<CartState>) => JSON.stringify(encodeDocState(s, (v) => crdtStateToJson(cart, v)));
        expect(cartText(joinedWire)).toBe(cartText(joined));
      }),
      propertyOptions({ share: 0.2 }),
    );
  });
});
