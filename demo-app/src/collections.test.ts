import { readFileSync } from 'node:fs';
import { checkRelayConfig } from '@converge/sync-server';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from './collections.js';

describe("the demo's collections", () => {
  it("are declared by the devices exactly as the relay's config declares them (else every device is refused at connect)", () => {
    const path = new URL('../relay.config.json', import.meta.url);
    const relay = checkRelayConfig(JSON.parse(readFileSync(path, 'utf8')), 'relay.config.json').collections ?? {};
    const devices = Object.fromEntries(
      Object.entries(COLLECTIONS).map(([name, o]) => [
        name,
        { mode: 'mode' in o ? o.mode : 'multi-leader', strategy: typeof o.strategy === 'string' ? o.strategy : o.strategy.kind },
      ]),
    );
    expect(devices).toEqual(relay);
    expect(relay['inventory']).toEqual({ mode: 'leader-follower', strategy: 'lww' });
  });
});
