// Minified + gzipped size of the client entry with all its dependencies, the share of idb and
// superjson (each measured as the gzipped size the bundle loses when it is left out), and the
// client's own code alone (every dependency left out).
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BundleSize {
  readonly minBytes: number;
  readonly gzBytes: number;
  /** package → gzipped bytes it adds (bundle size minus the bundle without it). */
  readonly shares: Readonly<Record<string, number>>;
  /** package → minified bytes in the bundle (from esbuild's metafile). */
  readonly minShares: Readonly<Record<string, number>>;
  /** The client's own code, minified + gzipped, with protocol, conflict, superjson and idb left out. */
  readonly ownGzBytes: number;
}

async function bundle(external: string[] = []): Promise<{ text: string; inputs: Record<string, number> }> {
  const result = await build({
    stdin: { contents: "export * from '@converge/client';", resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    external,
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile!.outputs)[0]!;
  const inputs: Record<string, number> = {};
  for (const [path, info] of Object.entries(output.inputs)) {
    const group = path.includes('node_modules/idb/')
      ? 'idb'
      : path.includes('node_modules/superjson/') || path.includes('node_modules/copy-anything/') || path.includes('node_modules/is-what/')
        ? 'superjson'
        : path.includes('conflict/')
          ? '@converge/conflict'
          : path.includes('protocol/')
            ? '@converge/protocol'
            : path.includes('client/')
              ? '@converge/client'
              : 'other';
    inputs[group] = (inputs[group] ?? 0) + info.bytesInOutput;
  }
  return { text: result.outputFiles[0]!.text, inputs };
}

const gz = (text: string) => gzipSync(text, { level: 9 }).length;

export async function measureBundle(): Promise<BundleSize> {
  const all = await bundle();
  const gzBytes = gz(all.text);
  const withoutIdb = gz((await bundle(['idb'])).text);
  const withoutSuperjson = gz((await bundle(['superjson'])).text);
  return {
    minBytes: all.text.length,
    gzBytes,
    shares: { idb: gzBytes - withoutIdb, 'superjson (with copy-anything, is-what)': gzBytes - withoutSuperjson },
    minShares: all.inputs,
    ownGzBytes: gz((await bundle(['idb', 'superjson', '@converge/protocol', '@converge/conflict'])).text),
  };
}
