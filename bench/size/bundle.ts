// One bundle as an app ships it: esbuild, minified, ESM for the browser, every dependency
// inlined, code reached only through `import()` split into chunks of its own (as Vite and other
// bundlers do); the size of what a page loads at start (the entry and the chunks it imports
// statically) minified and gzipped (level 9), the minified bytes each package puts in it
// (esbuild's metafile), the lazily loaded chunks' size apart, and any asset it emits (a .wasm
// module) with its own gzipped size.
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Plugin } from 'esbuild';

export interface Bundle {
  /** The JavaScript, minified. */
  readonly minBytes: number;
  readonly gzBytes: number;
  /** Emitted assets (WebAssembly), name → { bytes, gzBytes }. */
  readonly assets: Readonly<Record<string, { readonly bytes: number; readonly gzBytes: number }>>;
  /** Package → minified bytes it contributes to the JavaScript. */
  readonly packages: Readonly<Record<string, number>>;
  /** Input file (as esbuild names it) → minified bytes it contributes to the JavaScript loaded at start. */
  readonly files: Readonly<Record<string, number>>;
  /** JavaScript loaded at start and assets, gzipped. */
  readonly totalGzBytes: number;
  /** Chunks loaded only through `import()` (on first use of what they hold), gzipped each and added up. */
  readonly lazyGzBytes: number;
}

export interface BundleRequest {
  /** The entry module's text (`export * from '…'`). */
  readonly contents: string;
  /** Where the entry's imports resolve from (the node_modules that hold the packages). */
  readonly resolveDir: string;
  readonly external?: readonly string[];
  readonly alias?: Readonly<Record<string, string>>;
  /** Files left out as if they were packages: imports whose resolved path matches stay imports. */
  readonly externalFiles?: RegExp;
}

export const gz = (data: string | Uint8Array): number => gzipSync(data, { level: 9 }).length;

/** `@scope/name` or `name` of a bundled file; Converge's workspace packages as `@converge/<dir>`. */
export function packageOf(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  if (at >= 0) {
    const parts = path.slice(at + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const workspace = /(?:^|\/)packages\/([^/]+)\//.exec(path);
  if (workspace !== null) return `@converge/${workspace[1]}`;
  return '(entry)';
}

export async function bundle(request: BundleRequest): Promise<Bundle> {
  const options: BuildOptions = {
    stdin: { contents: request.contents, resolveDir: request.resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    splitting: true,
    outdir: '/bundle-size', // nothing is written; emitted assets need a directory to be named in
    loader: { '.wasm': 'file' },
    external: [...(request.external ?? [])],
    alias: { ...(request.alias ?? {}) },
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    logLevel: 'silent',
    plugins: request.externalFiles === undefined ? [] : [leaveOut(request.externalFiles)],
  };
  const result = await build(options);
  const outputs = result.metafile!.outputs;
  const entry = Object.keys(outputs).find((path) => path.endsWith('.js') && outputs[path]!.entryPoint !== undefined);
  if (entry === undefined) throw new Error('no JavaScript entry in the bundle');
  // What a page loads at start: the entry and, transitively, the chunks it imports statically.
  const initial = new Set<string>();
  const visit = (path: string) => {
    if (initial.has(path)) return;
    initial.add(path);
    for (const imported of outputs[path]?.imports ?? []) if (imported.kind === 'import-statement' && outputs[imported.path] !== undefined) visit(imported.path);
  };
  visit(entry);
  const nameOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);
  const initialNames = new Set([...initial].map(nameOf));
  const js = result.outputFiles!.filter((f) => f.path.endsWith('.js'));
  const text = js
    .filter((f) => initialNames.has(nameOf(f.path)))
    .map((f) => f.text)
    .join('\n');
  const lazyGzBytes = js.filter((f) => !initialNames.has(nameOf(f.path))).reduce((n, f) => n + gz(f.text), 0);
  const assets: Record<string, { bytes: number; gzBytes: number }> = {};
  for (const file of result.outputFiles!) {
    if (file.path.endsWith('.js')) continue;
    assets[nameOf(file.path)] = { bytes: file.contents.length, gzBytes: gz(file.contents) };
  }
  const packages: Record<string, number> = {};
  const files: Record<string, number> = {};
  for (const path of initial) {
    for (const [input, info] of Object.entries(outputs[path]!.inputs)) {
      const name = packageOf(input);
      packages[name] = (packages[name] ?? 0) + info.bytesInOutput;
      files[input] = (files[input] ?? 0) + info.bytesInOutput;
    }
  }
  const gzBytes = gz(text);
  return {
    minBytes: Buffer.byteLength(text),
    gzBytes,
    assets,
    packages,
    files,
    totalGzBytes: gzBytes + Object.values(assets).reduce((n, a) => n + a.gzBytes, 0),
    lazyGzBytes,
  };
}

/** Leaves the files whose path (relative, as imported: `./superjson-read.js`) matches `files` out of the bundle. */
function leaveOut(files: RegExp): Plugin {
  return {
    name: 'leave-out-files',
    setup(build) {
      build.onResolve({ filter: files }, (args) => (args.kind === 'entry-point' ? undefined : { path: args.path, external: true }));
    },
  };
}
