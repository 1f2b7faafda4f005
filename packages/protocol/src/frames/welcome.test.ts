import { describe, expect, it } from 'vitest';
import { RELAY_LIMIT_NAMES } from '../limits.js';
import { accepted, refusal, wireOf, type Wire } from '../testing/refusal.js';
import { LIMITS, sampleFrames } from '../testing/samples.js';

const welcome = (): Wire => wireOf(sampleFrames()[2]!);

describe('welcome', () => {
  it('decodes lineage, clock, write number, limits and the authoritative collections', () => {
    const frame = accepted(welcome());
    expect(frame).toMatchObject({ type: 'welcome', lineage: 'L9f3kQ2mZx', writeNumber: 41, limits: LIMITS });
    expect(frame.type === 'welcome' && frame.collections['carts']).toEqual({ mode: 'multi-leader', strategy: 'cart', head: 1200 });
    expect(frame).not.toHaveProperty('recovery');
    expect(accepted({ ...welcome(), recovery: true })).toHaveProperty('recovery', true);
  });

  it('its limits can be passed straight to decodeFrame', () => {
    const frame = accepted(welcome());
    const limits = frame.type === 'welcome' ? frame.limits : LIMITS;
    const wire = wireOf(sampleFrames()[7]!);
    wire.keys = Array.from({ length: limits.maxChangesPerFrame + 1 }, (_, i) => `k${i}`);
    expect(refusal(wire, limits)).toMatchObject({ code: 'payload_too_large', path: 'read.keys' });
  });

  const cases: [string, (w: Wire) => void, string][] = [
    ['protocol missing', (w) => delete w.protocol, 'welcome.protocol'],
    ['relay id with a space', (w) => (w.relayId = 'relay 1'), 'welcome.relayId'],
    ['reserved lineage', (w) => (w.lineage = '__proto__'), 'welcome.lineage'],
    ['negative epoch', (w) => (w.epoch = -1), 'welcome.epoch'],
    ['now beyond the Date range', (w) => (w.now = 9e15), 'welcome.now'],
    ['now a string', (w) => (w.now = '2026-01-01'), 'welcome.now'],
    ['write number missing', (w) => delete w.writeNumber, 'welcome.writeNumber'],
    ['write number fractional', (w) => (w.writeNumber = 0.5), 'welcome.writeNumber'],
    ['recovery not a boolean', (w) => (w.recovery = 'yes'), 'welcome.recovery'],
    ['limits missing', (w) => delete w.limits, 'welcome.limits'],
    ['negative clock skew', (w) => (w.limits.maxClockSkewMs = -1), 'welcome.limits.maxClockSkewMs'],
    ['collections missing', (w) => delete w.collections, 'welcome.collections'],
    ['head missing', (w) => delete w.collections.carts.head, 'welcome.collections.carts.head'],
    ['head negative', (w) => (w.collections.carts.head = -3), 'welcome.collections.carts.head'],
    ['strategy unknown', (w) => (w.collections.stock.strategy = 'LWW'), 'welcome.collections.stock.strategy'],
  ];
  for (const [name, breakIt, path] of cases) {
    it(`refuses ${name} at ${path}`, () => {
      const wire = welcome();
      breakIt(wire);
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path });
    });
  }

  it('requires every announced limit as a positive safe integer', () => {
    for (const name of RELAY_LIMIT_NAMES) {
      const wire = welcome();
      wire.limits[name] = name === 'maxClockSkewMs' ? -1 : 0;
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path: `welcome.limits.${name}` });
    }
  });
});
