// Smoke test of the size suite's peer bundles (where the peers are installed): each entry bundles
// as an app would ship it, Automerge's WebAssembly counted beside its JavaScript.
import { describe, expect, it } from 'vitest';
import { PEERS_DIR, peersInstalled } from '../peers/load-peer.js';
import { bundle } from './bundle.js';

if (!peersInstalled()) console.warn('peer systems not installed: their bundle smoke test is skipped. `npm run bench -- size` installs them.');

describe.runIf(peersInstalled())('peer bundles', () => {
  it('Yjs with its providers bundles for the browser', async () => {
    const b = await bundle({ contents: "export * from 'yjs'; export * from 'y-websocket'; export * from 'y-indexeddb';", resolveDir: PEERS_DIR });
    expect(b.packages['yjs']).toBeGreaterThan(0);
    expect(b.totalGzBytes).toBe(b.gzBytes);
  });

  it("Automerge-repo's WebAssembly is counted", async () => {
    const b = await bundle({ contents: "export * from '@automerge/automerge-repo';", resolveDir: PEERS_DIR });
    expect(Object.keys(b.assets).some((name) => name.endsWith('.wasm'))).toBe(true);
    expect(b.totalGzBytes).toBeGreaterThan(b.gzBytes);
  });
});
