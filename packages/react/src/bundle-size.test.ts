import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));
/** The budget (issue 15): what @converge/react adds to an app that already has React and the client. */
const BUDGET = 2048;

describe('bundle size', () => {
  it(`@converge/react adds at most ${BUDGET} bytes (esbuild, minified, gzip; react and @converge/client external)`, async () => {
    const result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      external: ['react', '@converge/client'],
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.contents;
    const gzipped = gzipSync(code).length;
    expect(gzipped, `${code.length} bytes minified, ${gzipped} gzipped`).toBeLessThanOrEqual(BUDGET);
    // It is the hooks, not a copy of React or the client.
    expect(new TextDecoder().decode(code)).toMatch(/from"react"/);
  });
});
