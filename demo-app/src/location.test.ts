import { describe, expect, it } from 'vitest';
import { devicesOf, relayUrlOf } from './location.js';

describe('the page URL', () => {
  it('opens three devices, or the one ?device= names', () => {
    expect(devicesOf('')).toEqual(['phone', 'laptop', 'tablet']);
    expect(devicesOf('?device=Kitchen')).toEqual(['kitchen']);
    expect(devicesOf('?device=../x')).toEqual(['phone', 'laptop', 'tablet']);
  });

  it("syncs with /sync on the page's own origin unless ?relay= names a WebSocket URL", () => {
    expect(relayUrlOf({ search: '', protocol: 'http:', host: 'localhost:5173' })).toBe('ws://localhost:5173/sync');
    expect(relayUrlOf({ search: '', protocol: 'https:', host: 'demo.example' })).toBe('wss://demo.example/sync');
    expect(relayUrlOf({ search: '?relay=ws://127.0.0.1:9000/', protocol: 'http:', host: 'x' })).toBe('ws://127.0.0.1:9000/');
    expect(relayUrlOf({ search: '?relay=javascript:alert(1)', protocol: 'http:', host: 'x' })).toBe('ws://x/sync');
  });
});
