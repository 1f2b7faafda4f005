// The peers live in bench/peers/node_modules, installed by the runner on first use; Converge's
// own install and type check never see them. Drivers load them at run time through here and
// describe, in their own file, the few members they use.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PEERS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** True once `npm install --prefix bench/peers` has run. */
export const peersInstalled = (): boolean => existsSync(fileURLToPath(new URL('./node_modules/.package-lock.json', import.meta.url)));

/** Imports a peer package from bench/peers/node_modules (a CommonJS module comes back as its `module.exports`). */
export async function loadPeer<T>(name: string): Promise<T> {
  const loaded = (await import(name)) as { default?: unknown; [key: string]: unknown };
  const named = Object.keys(loaded).filter((k) => k !== 'default' && k !== 'module.exports');
  return (named.length === 0 && loaded.default !== undefined ? loaded.default : loaded) as T;
}
