// Runs a bench entry in plain `node` on the built packages, not through tsx: tsx's transform
// keeps function names by wrapping every closure in a helper call, which would be measured as
// part of the codec (and is not part of what a relay or a browser runs).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const cacheDir = fileURLToPath(new URL('../../node_modules/.cache/converge-bench/', import.meta.url));

/** Bundles `entry` (this repo's TS), leaving packages (dist, superjson) to node's own resolution. */
export async function bundleForNode(entry: string): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const outfile = join(cacheDir, `${basename(entry, '.ts')}.mjs`);
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', packages: 'external', target: 'node20', outfile, logLevel: 'warning' });
  return outfile;
}

/** Runs the bundled entry with `node` (extra flags before it, args after); returns its stdout; its stderr passes through. */
export async function runInNode(entry: string, nodeFlags: readonly string[] = [], args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const outfile = await bundleForNode(entry);
  const run = spawnSync(process.execPath, [...nodeFlags, outfile, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`${entry} exited with ${run.status ?? run.signal}`);
  return run.stdout;
}
