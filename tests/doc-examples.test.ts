// Every `@example` block on a public export of every package runs here (at the repository root,
// since it imports them all), so the examples in the docs stay true.
// ```ts blocks are transpiled and run with the package's exports in scope; a line
// `expr; // → expected` must evaluate to `expected` (deep equality). ```json blocks in
// @converge/protocol are frames and must decode. The README's ```ts blocks run the same way,
// unless the line before the block (a blank line aside) is `<!-- not run: reason -->`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from '@converge/client';
import * as conflict from '@converge/conflict';
import * as protocol from '@converge/protocol';
import * as server from '@converge/sync-server';
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';

const packages = fileURLToPath(new URL('../packages/', import.meta.url));
const scopes: Record<string, Record<string, unknown>> = { conflict, protocol, 'sync-server': server, client };

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

/** Turns each `expr; // → expected` line into a checked assertion. */
function withResultChecks(code: string): string {
  return code
    .split('\n')
    .map((line) => {
      const match = /^(\s*)(.*?);\s*\/\/ → (.*)$/.exec(line);
      if (match === null) return line;
      const [, indent, expr, expected] = match;
      return `${indent}__expectResult(${expr}, (${expected}), ${JSON.stringify(line.trim())});`;
    })
    .join('\n');
}

function expectResult(actual: unknown, expected: unknown, line: string): void {
  expect(actual, line).toEqual(expected);
}

/** Runs a ```ts example with `scope` as its globals; its `import … from '@converge/…'` lines are satisfied by the scope. */
async function runExample(code: string, scope: Record<string, unknown>): Promise<void> {
  const body = withResultChecks(code.replace(/^import [^;]*? from '@converge\/[\w/-]+';\s*$/gm, ''));
  const { code: js } = await transform(body, { loader: 'ts', format: 'esm' });
  const all = { ...scope, __expectResult: expectResult };
  await new AsyncFunction(...Object.keys(all), js)(...Object.values(all));
}

function readmeExamples(): { name: string; code: string }[] {
  const text = readFileSync(join(packages, '..', 'README.md'), 'utf8');
  const out: { name: string; code: string }[] = [];
  for (const block of text.matchAll(/(?:^|\n)(.*)\n\n?```ts\n([\s\S]*?)```/g)) {
    if (/^<!-- not run/.test(block[1]!)) continue;
    const line = text.slice(0, block.index).split('\n').length + 1;
    out.push({ name: `README.md:${line}`, code: block[2]! });
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
    // The package's public exports, and the example's own module (for internal helpers).
    const own = (await import(join(packages, example.file))) as Record<string, unknown>;
    await runExample(example.code, { ...conflict, ...protocol, ...scopes[pkg], ...own });
  });
});

describe('README.md ts blocks', () => {
  const found = readmeExamples();
  it('has examples', () => expect(found.length).toBeGreaterThan(0));
  it.each(found.map((e) => [e.name, e] as const))('%s', async (_name, example) => {
    await runExample(example.code, { ...conflict, ...protocol, ...server });
  });
});

describe('result comments are checked', () => {
  it('a wrong `// → expected` fails the example', async () => {
    await expect(runExample("negotiateProtocol(0); // → 'not this'", { ...protocol })).rejects.toThrow(/negotiateProtocol/);
    await runExample('negotiateProtocol(0); // → undefined', { ...protocol });
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
