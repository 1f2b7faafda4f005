import { propertyOptions } from '@converge/conflict/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';

// A quarter of CONVERGE_PROPERTY_RUNS, between 50 and 300: each run opens a real connection.
const base = propertyOptions<[string]>({ share: 0.25 });
const runs = Math.min(300, Math.max(50, base.numRuns ?? 250));
const options = { ...base, numRuns: runs };

let relay: TestRelay;
let good: ProtocolClient;
beforeAll(async () => {
  relay = await startTestRelay({ limits: { maxFrameBytes: 64 * 1024 } });
  good = await ProtocolClient.connect(relay.url, { replicaId: 'goodReplica', subscriptions: [{ collection: 'notes', cursor: null }] });
  await good.next('changes', (f) => f.done === true);
});
afterAll(async () => {
  good.close();
  await relay.close();
});

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const validPush = JSON.stringify({
  type: 'push',
  id: 'p1',
  ack: 'relay',
  changes: [{ collection: 'notes', key: 'k', writeNumber: 1, chain: '1', delta: { v: { fuzzReplica: 1 }, s: [['fuzzReplica', 1, 1, 0, { json: 'x' }]] } }],
});

/** Junk: random JSON, deep nesting, huge numbers, prototype keys, wrong types, and mutations of a valid push. */
const arbFrame: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify({ type: 'push', id: 'x', ack: 'relay', changes: v })),
  fc.integer({ min: 60, max: 40_000 }).map(deep),
  fc.constant(deep(100_000)),
  fc.constantFrom(
    '{"type":"push","__proto__":{"polluted":1},"id":"a","ack":"relay","changes":[]}',
    '{"type":"subscribe","subscriptions":[{"collection":"constructor","cursor":null}]}',
    '{"type":"push","id":"a","ack":"relay","changes":[{"collection":"notes","key":"__proto__","writeNumber":1,"delta":{"v":{},"s":[]}}]}',
    '{"type":"push","id":"a","ack":"relay","changes":[{"collection":"notes","key":"k","writeNumber":1e400,"delta":{}}]}',
    '{"type":"credit","bytes":-1}',
    '{"type":"hello","protocol":1,"replicaId":"x","subscriptions":[]}',
  ),
  fc
    .tuple(fc.nat(validPush.length - 1), fc.nat(validPush.length), fc.string({ maxLength: 8 }))
    .map(([at, cut, text]) => validPush.slice(0, at) + text + validPush.slice(Math.max(at, cut))),
);

describe('fuzzing the relay with untrusted frames', () => {
  it('answers junk with a typed error and a close; never pollutes a prototype; another client keeps working', async () => {
    let closedWithError = 0;
    await fc.assert(
      fc.asyncProperty(arbFrame, async (text) => {
        const c = await ProtocolClient.connect(relay.url, { replicaId: 'fuzzReplica', subscriptions: [] });
        await c.next('welcome');
        c.sendRaw(text);
        // A valid frame gets an answer or nothing; anything else an error frame and a close.
        c.send({ type: 'ping', t: 42 });
        const outcome = await Promise.race([c.closed.then((x) => ({ closed: x })), c.next('pong').then(() => ({ closed: undefined }))]);
        if (outcome.closed !== undefined) {
          expect([1008, 1009]).toContain(outcome.closed.code);
          // Past ws's own payload cap the socket is cut with 1009 before any frame is read.
          if (text.length <= 128 * 1024) expect(c.frames.find((f) => f.type === 'error')).toBeDefined();
          closedWithError++;
        }
        c.close();
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      options,
    );
    expect(closedWithError).toBeGreaterThan(runs / 2);
    const ack = await good.push([good.blind('notes', 'still-here', 1)]);
    expect(ack.results[0]).toMatchObject({ status: 'accepted' });
    expect(good.invalid).toEqual([]);
  });
});
