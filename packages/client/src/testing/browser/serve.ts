/* eslint-disable import-x/no-nodejs-modules -- serves a browser test app from Node (tests) */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Not `new URL(path, import.meta.url)`: Vite rewrites that pattern as an asset URL, which a DOM test environment resolves against its page.
const ROOT_TSCONFIG = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../tsconfig.json');

/** Bundles a browser entry (TypeScript, `@converge/*` from source) into one ES module. */
export async function bundleBrowserEntry(entry: string, options: { readonly minify?: boolean } = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    minify: options.minify ?? false,
    sourcemap: 'inline',
    tsconfig: ROOT_TSCONFIG,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export interface BrowserApp {
  readonly server: Server;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `ws://127.0.0.1:<port>` */
  readonly wsOrigin: string;
  close(): Promise<void>;
}

/**
 * Serves files (path → [content type, body]) from one Node HTTP server on 127.0.0.1, port 0.
 * `attach(server)` mounts more on it (e.g. a relay's WebSocket upgrades).
 */
export async function serveBrowserApp(files: Readonly<Record<string, readonly [string, string]>>, attach?: (server: Server) => void): Promise<BrowserApp> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const file = files[path];
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-store' }).end(file[1]);
  });
  attach?.(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    wsOrigin: `ws://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An HTML page that loads one module script (and has a favicon, so no 404 lands in the console). */
export function modulePage(script = '/app.js', title = 'converge test'): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,"></head><body><script type="module" src="${script}"></script></body></html>`;
}
