// Smoke test of the fan-out suite at tiny sizes (correctness only, no timing asserted): the
// relay CLI (from dist), the load generator, the subscribers and the slow subscriber in their
// own processes, as the suite runs them.
import { describe, expect, it } from 'vitest';
import { deliveryOnce, ingestOnce } from './fanout.bench.js';

describe('fan-out harness', () => {
  it('ingest: every change of every writer is accepted', async () => {
    const run = await ingestOnce(1, 2, 300);
    expect(run.failure).toBeUndefined();
    expect(run.changes).toBe(600);
  }, 120_000);

  it('delivery with one slow subscriber: the others get every change, the slow one reads at its pace', async () => {
    const run = await deliveryOnce({ condition: 'slow', round: 1, rate: 200, subscribers: 5, warmMs: 300, measureMs: 1000 });
    expect(run.errors).toEqual([]);
    expect(run.subscribers).toBe(4);
    expect(run.load.measured).toBeGreaterThan(100);
    expect(run.delivered).toBe(run.expected);
    expect(run.perSubscriberMin).toBeGreaterThan(0);
    expect(run.slow?.messages).toBeGreaterThan(0);
    expect(run.slow?.changes).toBeGreaterThan(0);
  }, 120_000);
});
