import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The relay the dev server and `vite preview` forward `/sync` to (npm start sets the port it started it on). */
const relayPort = process.env['CONVERGE_RELAY_PORT'] ?? '8787';
/** With `npm start -- --cluster`: the second relay, forwarded from `/sync-b`; the cluster's control is on the first relay's port. */
const relayB = process.env['CONVERGE_RELAY_B_PORT'];
const proxy = {
  // Before `/sync`, which would match `/sync-b` as a prefix.
  ...(relayB === undefined
    ? {}
    : {
        '/sync-b': { target: `ws://127.0.0.1:${relayB}`, ws: true, rewrite: (path: string) => path.replace(/^\/sync-b/, '/sync') },
        '/cluster': { target: `http://127.0.0.1:${relayPort}` },
      }),
  '/sync': { target: `ws://127.0.0.1:${relayPort}`, ws: true },
};

export default defineConfig({
  root: source('.'),
  // The packages' TypeScript sources, so the demo always runs the code in this checkout (no stale dist/).
  resolve: {
    alias: [
      { find: /^@converge\/conflict$/, replacement: source('../packages/conflict/src/index.ts') },
      { find: /^@converge\/protocol$/, replacement: source('../packages/protocol/src/index.ts') },
      { find: /^@converge\/client$/, replacement: source('../packages/client/src/index.ts') },
    ],
  },
  server: { proxy },
  preview: { proxy },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
});
