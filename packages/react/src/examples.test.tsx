// @vitest-environment happy-dom
// Every `@example` block of @converge/react, and every ```tsx block of its README, runs here, so
// the examples in the docs stay true: each block is transpiled and run with React, the client's and this package's exports
// in scope (and `element`, a mounted <div>); each component it defines is then rendered inside a
// provider whose client holds a document, and must render without an error.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from '@converge/client';
import { render, waitFor } from '@testing-library/react';
import { transform } from 'esbuild';
import * as React from 'react';
import { createRoot } from 'react-dom/client';
import { describe, expect, it } from 'vitest';
import * as bindings from './index.js';
import { dbName, providerOf, testClients } from './test-support/clients.js';

const SRC = dirname(fileURLToPath(import.meta.url));
const clients = testClients();

function examples(): { name: string; code: string }[] {
  const out: { name: string; code: string }[] = [];
  for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts') && !f.includes('.test.'))) {
    const text = readFileSync(join(SRC, file), 'utf8');
    for (const match of text.matchAll(/@example\s*\n((?:\s*\*.*\n)+?)\s*\*\//g)) {
      const body = match[1]!
        .split('\n')
        .map((line) => line.replace(/^\s*\* ?/, ''))
        .join('\n');
      for (const block of body.matchAll(/```tsx\n([\s\S]*?)```/g)) out.push({ name: file, code: block[1]! });
    }
  }
  // The README's ```tsx blocks too, unless the line before one is `<!-- not run: reason -->`.
  const readme = readFileSync(join(SRC, '..', 'README.md'), 'utf8');
  for (const block of readme.matchAll(/(?:^|\n)(.*)\n\n?```tsx\n([\s\S]*?)```/g)) {
    if (/^<!-- not run/.test(block[1]!)) continue;
    out.push({ name: `README.md:${readme.slice(0, block.index).split('\n').length + 1}`, code: block[2]! });
  }
  return out;
}

const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<unknown>;

/** Runs a block; resolves with the components it defines (top-level `function Name`). */
async function run(code: string, scope: Record<string, unknown>): Promise<Record<string, React.FC<Record<string, unknown>>>> {
  const names = [...code.matchAll(/^function ([A-Z]\w*)/gm)].map((m) => m[1]!);
  let components: Record<string, React.FC<Record<string, unknown>>> = {};
  const { code: js } = await transform(`${code}\n__components({ ${names.join(', ')} });`, {
    loader: 'tsx',
    jsx: 'transform',
    jsxFactory: 'React.createElement',
    jsxFragment: 'React.Fragment',
  });
  const all = { ...scope, __components: (found: typeof components) => (components = found) };
  const identifiers = Object.keys(all).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default');
  await new AsyncFunction(...identifiers, js)(...identifiers.map((name) => all[name as keyof typeof all]));
  return components;
}

describe('@example blocks of @converge/react', () => {
  const found = examples();
  it('has one on each hook and on the provider, and the README’s', () => expect(found.length).toBeGreaterThanOrEqual(14));
  it.each(found.map((e, i) => [`${e.name} #${i}`, e] as const))('%s', async (_name, example) => {
    const replica = await clients.open(dbName('example'));
    await replica.collection('lists').put('groceries', 'Groceries');
    await replica.collection('todos').put('todo:1', { text: 'buy milk', done: false });
    const element = document.body.appendChild(document.createElement('div'));
    const scope = { React, ...React, ...client, ...bindings, createRoot, element };
    const components = await run(example.code, scope);
    for (const Component of Object.values(components)) {
      const { container, unmount } = render(<Component writeId={undefined} />, { wrapper: providerOf(replica) });
      await waitFor(() => expect(container.textContent).not.toMatch(/^(…)?$/));
      unmount();
    }
    if (example.name === 'provider.ts') await waitFor(() => expect(element.textContent).toMatch(/^replica \w+/));
    element.remove();
  });
});
