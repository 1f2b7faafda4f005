// The size budget of Converge's browser client, and its measure: the `@converge/client` entry
// bundled as an app ships it (minified, ESM, every dependency inlined), gzipped. `npm test`
// fails when it grows past the budget (client-budget.test.ts); `npm run bench -- size`
// reports it beside the peers' bundles.
import { fileURLToPath } from 'node:url';
import { bundle, gz, type Bundle } from './bundle.js';

/**
 * The budget, gzipped bytes of what a page loads at start (code reached only through `import()`,
 * such as `exportData`/`importData`, is a chunk of its own): just above the size measured after
 * export and import were added (45,004 B), so the check passes and fails on growth. The target
 * is ≤ 25 kB gz: lower this constant as the bundle shrinks.
 */
export const CLIENT_BUDGET_GZ_BYTES = 44 * 1024;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Converge's packages from their TypeScript sources (`src`), so the check measures the code as it
 * is now and not the last build, or from their builds (`dist`), what npm ships; the two differ by
 * a few bytes (the same code through esbuild or tsc).
 */
export type ClientSource = 'src' | 'dist';

const SOURCE_ALIASES: Readonly<Record<string, string>> = {
  '@converge/client': `${ROOT}packages/client/src/index.ts`,
  '@converge/protocol': `${ROOT}packages/protocol/src/index.ts`,
  '@converge/conflict': `${ROOT}packages/conflict/src/index.ts`,
};

/**
 * The parts the breakdown names, in the order they are added to the bundle: each part's gzipped
 * size is what the bundle grows by when it stops being left out (so the parts add up to the total).
 */
export const CLIENT_PARTS: readonly { readonly name: string; readonly packages: readonly string[]; readonly external: readonly string[] }[] = [
  { name: "client's own code", packages: ['@converge/client'], external: ['@converge/conflict', '@converge/protocol', 'superjson', 'idb'] },
  { name: '@converge/conflict', packages: ['@converge/conflict'], external: ['@converge/protocol', 'superjson', 'idb'] },
  { name: '@converge/protocol', packages: ['@converge/protocol'], external: ['superjson', 'idb'] },
  { name: 'superjson (with copy-anything, is-what)', packages: ['superjson', 'copy-anything', 'is-what'], external: ['idb'] },
  { name: 'idb', packages: ['idb'], external: [] },
];

export interface ClientBundleSize {
  readonly bundle: Bundle;
  /** Each part: minified bytes in the bundle, and the gzipped bytes it adds (see CLIENT_PARTS). */
  readonly parts: readonly { readonly name: string; readonly minBytes: number; readonly gzBytes: number }[];
}

async function clientBundle(source: ClientSource, external: readonly string[] = []): Promise<Bundle> {
  return bundle({
    contents: "export * from '@converge/client';",
    resolveDir: ROOT,
    external,
    // A package left out stays an import by name: alias only the ones bundled.
    ...(source === 'src' ? { alias: Object.fromEntries(Object.entries(SOURCE_ALIASES).filter(([name]) => !external.includes(name))) } : {}),
  });
}

export async function measureClientBundle(source: ClientSource): Promise<ClientBundleSize> {
  const all = await clientBundle(source);
  const parts = [];
  let before = 0;
  for (const part of CLIENT_PARTS) {
    const size = part.external.length === 0 ? all.gzBytes : (await clientBundle(source, part.external)).gzBytes;
    parts.push({ name: part.name, minBytes: part.packages.reduce((n, p) => n + (all.packages[p] ?? 0), 0), gzBytes: size - before });
    before = size;
  }
  return { bundle: all, parts };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

/** The breakdown as lines of text (the test prints it; the size suite renders it as a table). */
export function breakdownLines(size: ClientBundleSize): string[] {
  return [
    `@converge/client bundle: ${kb(size.bundle.gzBytes)} gz (${size.bundle.gzBytes} B; ${kb(size.bundle.minBytes)} minified); budget ${kb(CLIENT_BUDGET_GZ_BYTES)} (${CLIENT_BUDGET_GZ_BYTES} B)`,
    ...size.parts.map((p) => `  ${p.name.padEnd(42)} ${kb(p.gzBytes).padStart(9)} gz  ${kb(p.minBytes).padStart(9)} minified`),
  ];
}

export { gz };
