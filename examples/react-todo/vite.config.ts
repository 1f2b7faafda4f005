import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The relay `npm run dev` starts (scripts/serve.mjs --dev sets the port it chose). */
const relay = `ws://127.0.0.1:${process.env['TODO_RELAY_PORT'] ?? '8790'}`;
const proxy = { '/sync': { target: relay, ws: true } };

export default defineConfig({
  root: source('.'),
  // The packages' TypeScript sources, so the example always runs the code in this checkout (no stale dist/).
  resolve: {
    alias: [
      { find: /^@converge\/conflict$/, replacement: source('../../packages/conflict/src/index.ts') },
      { find: /^@converge\/protocol$/, replacement: source('../../packages/protocol/src/index.ts') },
      { find: /^@converge\/client$/, replacement: source('../../packages/client/src/index.ts') },
      { find: /^@converge\/react$/, replacement: source('../../packages/react/src/index.ts') },
    ],
  },
  oxc: { jsx: { runtime: 'automatic' } },
  server: { proxy },
  preview: { proxy },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
});
