import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The relay the dev server and `vite preview` forward `/sync` to (npm start sets the port it started it on). */
const relay = `ws://127.0.0.1:${process.env['CONVERGE_RELAY_PORT'] ?? '8787'}`;
const proxy = { '/sync': { target: relay, ws: true } };

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
