import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@converge\/conflict\/testing$/, replacement: src('./packages/conflict/src/testing/index.ts') },
      { find: /^@converge\/conflict$/, replacement: src('./packages/conflict/src/index.ts') },
      { find: /^@converge\/client\/testing$/, replacement: src('./packages/client/src/testing/index.ts') },
      { find: /^@converge\/client$/, replacement: src('./packages/client/src/index.ts') },
      { find: /^@converge\/react$/, replacement: src('./packages/react/src/index.ts') },
      { find: /^@converge\/protocol$/, replacement: src('./packages/protocol/src/index.ts') },
      { find: /^@converge\/sync-server\/testing$/, replacement: src('./packages/sync-server/src/testing/index.ts') },
      { find: /^@converge\/sync-server$/, replacement: src('./packages/sync-server/src/index.ts') },
    ],
  },
  test: {
    include: [
      'packages/*/src/**/*.test.{ts,tsx}',
      'tests/*.test.ts',
      'packaging/*.test.ts',
      'bench/**/*.test.ts',
      'demo-app/src/**/*.test.ts',
      'examples/*/src/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
  },
});
