// @vitest-environment happy-dom
import { eventually } from '@converge/client/testing';
import { Profiler, startTransition, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { ConvergeProvider } from './provider.js';
import { dbName, testClients } from './test-support/clients.js';
import { useDoc } from './use-doc.js';

// A real concurrent render (React's scheduler, not act()'s synchronous queue).
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;

const clients = testClients();
const CELLS = 24;

/** Keeps the thread busy, so React yields between cells and the write lands mid-render. */
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

const mounted: HTMLElement[] = [];
const mount = () => {
  const element = document.createElement('div');
  mounted.push(element);
  return document.body.appendChild(element);
};
afterEach(() => {
  for (const element of mounted.splice(0)) element.remove();
});

describe('no tearing', () => {
  it('a write that lands during a concurrent render (startTransition) never shows two values in one commit', async () => {
    const client = await clients.open(dbName('tearing'));
    const notes = client.collection<string>('notes');
    await notes.put('k', 'v1');
    let write: Promise<unknown> | undefined;
    /** What each cell of the transition read, in render order. */
    const reads: (string | undefined)[] = [];
    const commits: string[][] = [];

    function Cell({ index }: { readonly index: number }) {
      const doc = useDoc<string>('notes', 'k');
      if (index < 0) return <p>{doc.value}</p>;
      reads.push(doc.value);
      if (index === 2 && write === undefined) write = notes.put('k', 'v2'); // lands while the next cells render
      busy(8);
      return <span data-cell>{doc.value}</span>;
    }
    const provided = (children: ReactNode) => <ConvergeProvider client={client}>{children}</ConvergeProvider>;
    const shown = (root: HTMLElement) => [...root.querySelectorAll('[data-cell]')].map((e) => e.textContent ?? '');

    // Another root holds the key, so the cells find it loaded (and its own update does not interrupt theirs).
    const holder = createRoot(mount());
    holder.render(provided(<Cell index={-1} />));
    await eventually(() => expect(document.body.textContent).toContain('v1'));

    const element = mount();
    const root = createRoot(element);
    const cells = (count: number) =>
      provided(
        <Profiler id="cells" onRender={() => commits.push(shown(element))}>
          {Array.from({ length: count }, (_, i) => (
            <Cell key={i} index={i} />
          ))}
        </Profiler>,
      );
    startTransition(() => root.render(cells(CELLS)));
    await eventually(() => expect(shown(element)).toEqual(Array(CELLS).fill('v2')), 10_000);
    await write;
    root.unmount();
    holder.unmount();

    // The write did land mid-render: cells of one render pass read v1, then v2…
    expect(reads.slice(0, 3)).toEqual(['v1', 'v1', 'v1']);
    expect(reads.slice(3, CELLS)).toContain('v2');
    // …yet every commit shows one value in every cell.
    expect(commits.length).toBeGreaterThan(0);
    for (const commit of commits) expect(new Set(commit).size, `torn commit: ${commit.join(' ')}`).toBe(1);
  });
});
