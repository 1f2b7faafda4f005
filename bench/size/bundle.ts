// One bundle as an app ships it: esbuild, minified, ESM for the browser, every dependency
// inlined; its size minified and gzipped (level 9), the minified bytes each package puts in it
// (esbuild's metafile), and any asset it emits (a .wasm module) with its own gzipped size.
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
  /** Input file (as esbuild names it) → minified bytes it contributes to the JavaScript. */
  readonly files: Readonly<Record<string, number>>;
  /** JavaScript and assets, gzipped. */
  readonly totalGzBytes: number;
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
    outdir: '/bundle-size', // nothing is written; emitted assets need a directory to be named in
    loader: { '.wasm': 'file' },
    external: [...(request.external ?? [])],
    alias: { ...(request.alias ?? {}) },
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    logLevel: 'silent',
    plugins: request.externalFiles === undefined ? [] : [leaveOut(request.externalFiles)],
  };
  const result = await build(options);
  const js = result.outputFiles!.filter((f) => f.path.endsWith('.js'));
  if (js.length !== 1) throw new Error(`expected one JavaScript output, got ${js.length}`);
  const text = js[0]!.text;
  const assets: Record<string, { bytes: number; gzBytes: number }> = {};
  for (const file of result.outputFiles!) {
    if (file.path.endsWith('.js')) continue;
    assets[file.path.slice(file.path.lastIndexOf('/') + 1)] = { bytes: file.contents.length, gzBytes: gz(file.contents) };
  }
  const output = Object.entries(result.metafile!.outputs).find(([path]) => path.endsWith('.js'))![1];
  const packages: Record<string, number> = {};
  const files: Record<string, number> = {};
  for (const [path, info] of Object.entries(output.inputs)) {
    const name = packageOf(path);
    packages[name] = (packages[name] ?? 0) + info.bytesInOutput;
    files[path] = info.bytesInOutput;
  }
  const gzBytes = gz(text);
  return {
    minBytes: Buffer.byteLength(text),
    gzBytes,
    assets,
    packages,
    files,
    totalGzBytes: gzBytes + Object.values(assets).reduce((n, a) => n + a.gzBytes, 0),
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
