import { describe, expect, it } from 'vitest';
import { compareHlc, createHlcClock, hlcProblem, isTooFarAhead, MAX_LOGICAL, type Hlc } from './hlc.js';

function clockAt(start: number) {
  const time = { now: start };
  return { time, clock: createHlcClock({ replica: 'A', now: () => time.now }) };
}

describe('hybrid logical clock', () => {
  it('monotonic: follows physical time when it advances', () => {
    const { time, clock } = clockAt(1000);
    expect(clock.tick()).toEqual({ wall: 1000, logical: 0, replica: 'A' });
    time.now = 1005;
    expect(clock.tick()).toEqual({ wall: 1005, logical: 0, replica: 'A' });
  });

  it('stuttering: events within one millisecond count up the logical part', () => {
    const { clock } = clockAt(1000);
    const stamps = [clock.tick(), clock.tick(), clock.tick()];
    expect(stamps.map((s) => s.logical)).toEqual([0, 1, 2]);
    expect(compareHlc(stamps[0]!, stamps[1]!)).toBeLessThan(0);
  });

  it('regressing: a physical clock that goes back never makes a stamp go back', () => {
    const { time, clock } = clockAt(1000);
    const before = clock.tick();
    time.now = 400;
    const after = clock.tick();
    expect(compareHlc(before, after)).toBeLessThan(0);
    expect(after.wall).toBe(1000);
  });

  it('overflow: the logical counter borrows the next millisecond instead of wrapping', () => {
    const clock = createHlcClock({ replica: 'A', now: () => 1000, last: { wall: 1000, logical: MAX_LOGICAL, replica: 'A' } });
    const next = clock.tick();
    expect(next).toEqual({ wall: 1001, logical: 0, replica: 'A' });
  });

  it('drift: a remote stamp far ahead is taken in, never refused, and later stamps stay above it', () => {
    const { clock } = clockAt(1000);
    const remote: Hlc = { wall: 9_000_000, logical: 7, replica: 'B' };
    const received = clock.receive(remote);
    expect(compareHlc(received, remote)).toBeGreaterThan(0);
    expect(compareHlc(clock.tick(), received)).toBeGreaterThan(0);
  });

  it('receive from a replica behind keeps the local order', () => {
    const { clock } = clockAt(1000);
    const local = clock.tick();
    const received = clock.receive({ wall: 10, logical: 3, replica: 'B' });
    expect(compareHlc(received, local)).toBeGreaterThan(0);
    expect(received.wall).toBe(1000);
  });

  it('resumes after a restart from the last stamp, with an adjustable offset', () => {
    const clock = createHlcClock({ replica: 'A', now: () => 50, last: { wall: 2000, logical: 4, replica: 'A' } });
    expect(clock.tick()).toEqual({ wall: 2000, logical: 5, replica: 'A' });
    clock.setOffsetMs(10_000);
    expect(clock.tick().wall).toBe(10_050);
    expect(clock.offsetMs()).toBe(10_000);
  });

  it('orders by wall, logical, then replica', () => {
    const s = (wall: number, logical: number, replica: string): Hlc => ({ wall, logical, replica });
    const sorted = [s(2, 0, 'A'), s(1, 5, 'B'), s(1, 5, 'A'), s(1, 0, 'Z')].sort(compareHlc);
    expect(sorted).toEqual([s(1, 0, 'Z'), s(1, 5, 'A'), s(1, 5, 'B'), s(2, 0, 'A')]);
  });

  it('skew check: true only when a stamp is further ahead than allowed', () => {
    expect(isTooFarAhead({ wall: 1000 + 60_001, logical: 0, replica: 'A' }, 1000, 60_000)).toBe(true);
    expect(isTooFarAhead({ wall: 1000 + 60_000, logical: 0, replica: 'A' }, 1000, 60_000)).toBe(false);
    expect(isTooFarAhead({ wall: 0, logical: 0, replica: 'A' }, 1000, 60_000)).toBe(false);
  });

  it('refuses NaN, negative, fractional and out-of-range stamps', () => {
    for (const bad of [
      { wall: Number.NaN, logical: 0, replica: 'A' },
      { wall: -1, logical: 0, replica: 'A' },
      { wall: 1.5, logical: 0, replica: 'A' },
      { wall: 9e15, logical: 0, replica: 'A' },
      { wall: 1, logical: MAX_LOGICAL + 1, replica: 'A' },
      { wall: 1, logical: 0, replica: '__proto__' },
      null,
    ]) {
      expect(hlcProblem(bad)).toBeTypeOf('string');
    }
    expect(hlcProblem({ wall: 1, logical: 0, replica: 'A' })).toBeUndefined();
  });
});
