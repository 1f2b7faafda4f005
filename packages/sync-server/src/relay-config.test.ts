import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { checkRelayConfig, loadRelayConfig } from './relay-config.js';

describe('relay configuration', () => {
  it('loads collections and limits from JSON and refuses mistakes with the field named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'converge-config-'));
    try {
      const file = join(dir, 'relay.config.json');
      writeFileSync(file, JSON.stringify({ collections: { carts: { mode: 'multi-leader', strategy: 'cart' } }, limits: { maxSiblingsPerKey: 50 } }));
      expect(await loadRelayConfig(file)).toMatchObject({ collections: { carts: { strategy: 'cart' } }, limits: { maxSiblingsPerKey: 50 } });
      const js = join(dir, 'relay.config.mjs');
      writeFileSync(js, "export default { collections: { stock: { mode: 'leader-follower', strategy: 'lww' } } };");
      expect(await loadRelayConfig(js)).toMatchObject({ collections: { stock: { mode: 'leader-follower' } } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => checkRelayConfig({ collections: { carts: { mode: 'multi-leader', strategy: 'sum' } } }, 'f')).toThrow(/collections\.carts\.strategy/);
    expect(() => checkRelayConfig({ collections: { carts: { mode: 'leaderless', strategy: 'cart' } } }, 'f')).toThrow(/collections\.carts\.mode/);
    expect(() => checkRelayConfig({ limits: { maxFrameBytes: -1 } }, 'f')).toThrow(/limits\.maxFrameBytes/);
    expect(() => checkRelayConfig({ limits: { maxFrames: 1 } }, 'f')).toThrow(/unknown limit/);
    expect(() => checkRelayConfig({ colections: {} }, 'f')).toThrow(/colections: unknown setting/);
    expect(checkRelayConfig({ rateLimit: { changesPerSecond: 1e6, burst: 1e6 } }, 'f').rateLimit?.burst).toBe(1e6);
    expect(() => checkRelayConfig({ principalRateLimit: { changesPerSecond: 0, burst: 1 } }, 'f')).toThrow(/principalRateLimit\.changesPerSecond/);
  });

  it('a collection with a mode and no strategy gets siblings; a mode is still required', () => {
    expect(checkRelayConfig({ collections: { notes: { mode: 'multi-leader' }, carts: { mode: 'multi-leader', strategy: 'cart' } } }, 'f').collections).toEqual({
      notes: { mode: 'multi-leader', strategy: 'siblings' },
      carts: { mode: 'multi-leader', strategy: 'cart' },
    });
    expect(() => checkRelayConfig({ collections: { notes: { strategy: 'lww' } } }, 'f')).toThrow(/collections\.notes\.mode: must be one of/);
    expect(() => checkRelayConfig({ collections: { notes: 'lww' } }, 'f')).toThrow(/collections\.notes: must be an object with a mode/);
  });

  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1500')).toBe(1500);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });
});
