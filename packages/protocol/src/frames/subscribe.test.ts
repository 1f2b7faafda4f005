import { describe, expect, it } from 'vitest';
import { accepted, refusal, wireOf } from '../testing/refusal.js';
import { sampleFrames } from '../testing/samples.js';

describe('subscribe', () => {
  it('adds filtered subscriptions after hello', () => {
    expect(accepted(wireOf(sampleFrames()[4]!))).toEqual({
      type: 'subscribe',
      subscriptions: [{ collection: 'orders', cursor: null, filter: { prefix: 'user-7/' } }],
    });
  });

  it('refuses an empty list, and too many as payload_too_large', () => {
    expect(refusal({ type: 'subscribe', subscriptions: [] })).toMatchObject({ code: 'bad_message', path: 'subscribe.subscriptions' });
    const subscriptions = [
      { collection: 'a', cursor: null },
      { collection: 'b', cursor: null },
    ];
    expect(refusal({ type: 'subscribe', subscriptions }, { maxChangesPerFrame: 1 })).toMatchObject({
      code: 'payload_too_large',
      path: 'subscribe.subscriptions',
    });
    expect(refusal({ type: 'subscribe', subscriptions: [{ collection: 'a', cursor: null, filter: { prefix: '' } }] })).toMatchObject({
      path: 'subscribe.subscriptions[0].filter.prefix',
    });
  });
});
