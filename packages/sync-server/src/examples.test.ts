// Every `@example` block on a public export runs here, so the examples in the docs stay true.
// ```ts blocks are transpiled and run with the package's exports in scope; ```json blocks in
// @converge/protocol are frames and must decode.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as conflict from '@converge/conflict';
import * as protocol from '@converge/protocol';
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as server from './index.js';

const packages = fileURLToPath(new URL('../../', import.meta.url));
const scopes: Record<string, Record<string, unknown>> = { conflict, protocol, 'sync-server': server };

interface Example {
  readonly file: string;
  readonly lang: string;
  readonly code: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function examples(pkg: string): Example[] {
  const out: Example[] = [];
  for (const file of sources(join(packages, pkg, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/@example\s*\n((?:\s*\*.*\n)+?)\s*\*\//g)) {
      const body = match[1]!
        .split('\n')
        .map((line) => line.replace(/^\s*\* ?/, ''))
        .join('\n');
      for (const block of body.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
        out.push({ file: relative(packages, file), lang: block[1]!, code: block[2]! });
      }
    }
  }
  return out;
}

const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<unknown>;

describe.each(Object.keys(scopes))('@example blocks of @converge/%s', (pkg) => {
  const found = examples(pkg);
  it('has examples', () => expect(found.length).toBeGreaterThan(0));
  it.each(found.map((e, i) => [`${e.file} #${i} (${e.lang})`, e] as const))('%s', async (_name, example) => {
    if (example.lang === 'json') {
      const decoded = protocol.decodeFrame(JSON.stringify(JSON.parse(example.code)));
      if (!decoded.ok) throw decoded.error;
      return;
    }
    const { code } = await transform(example.code, { loader: 'ts', format: 'esm' });
    // The package's public exports, and the example's own module (for internal helpers).
    const own = (await import(join(packages, example.file))) as Record<string, unknown>;
    const scope = { ...conflict, ...protocol, ...scopes[pkg], ...own };
    await new AsyncFunction(...Object.keys(scope), code)(...Object.values(scope));
  });
});

describe('one error type everywhere', () => {
  it('ConvergeError is re-exported by protocol and the relay as the same class, so instanceof works across packages', () => {
    expect(protocol.ConvergeError).toBe(conflict.ConvergeError);
    expect(server.ConvergeError).toBe(conflict.ConvergeError);
    const decoded = protocol.decodeFrame('{"type":"nope"}');
    expect(!decoded.ok && decoded.error instanceof server.ConvergeError).toBe(true);
  });
});
