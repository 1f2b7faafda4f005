// @vitest-environment happy-dom
import { act, render, renderHook, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { countSubscriptions, dbName, providerOf, testClients } from './test-support/clients.js';
import { useScan } from './use-scan.js';

const clients = testClients();
const keysOf = (docs: readonly { readonly key: string }[]) => docs.map((d) => d.key);

describe('useScan', () => {
  it('lists the documents under a prefix in key order, at most `limit`, and follows writes and deletes', async () => {
    const client = await clients.open(dbName('scan'));
    await client.putMany('todos', [
      ['todo:b', 'b'],
      ['todo:d', 'd'],
      ['todo:c', 'c'],
      ['other', 'x'],
    ]);
    const { result } = renderHook(() => useScan<string>('todos', { prefix: 'todo:', limit: 3 }), { wrapper: providerOf(client) });
    expect(result.current).toMatchObject({ docs: [], loading: true });
    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(keysOf(result.current.docs)).toEqual(['todo:b', 'todo:c', 'todo:d']);
    const todos = client.collection<string>('todos');
    await act(() => todos.put('todo:a', 'a')); // enters first; the last one leaves the window
    expect(keysOf(result.current.docs)).toEqual(['todo:a', 'todo:b', 'todo:c']);
    await act(() => todos.put('todo:z', 'z')); // beyond a full window
    expect(keysOf(result.current.docs)).toEqual(['todo:a', 'todo:b', 'todo:c']);
    await act(() => todos.put('todo:b', 'B'));
    expect(result.current.docs.map((d) => d.value)).toEqual(['a', 'B', 'c']);
    await act(() => todos.delete('todo:a')); // leaves a full window: read again, todo:d comes back
    await waitFor(() => expect(keysOf(result.current.docs)).toEqual(['todo:b', 'todo:c', 'todo:d']));
    await act(() => client.collection('todos').put('other', 'y')); // not under the prefix
    expect(keysOf(result.current.docs)).toEqual(['todo:b', 'todo:c', 'todo:d']);
  });

  it('keeps unchanged documents’ objects, so memoized rows do not render again', async () => {
    const client = await clients.open(dbName('rows'));
    await client.putMany('todos', [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    const { result } = renderHook(() => useScan<number>('todos'), { wrapper: providerOf(client) });
    await waitFor(() => expect(result.current.docs).toHaveLength(3));
    const [a, b, c] = result.current.docs;
    const before = result.current;
    await act(() => client.collection('todos').put('b', 20));
    expect(result.current).not.toBe(before);
    expect(result.current.docs[0]).toBe(a);
    expect(result.current.docs[1]).not.toBe(b);
    expect(result.current.docs[2]).toBe(c);
    const after = result.current;
    await act(() => client.collection('elsewhere').put('b', 1));
    expect(result.current).toBe(after);
  });

  it('shows another replica’s items through the relay', async () => {
    await clients.startRelay();
    const a = await clients.open(dbName('a'));
    const b = await clients.open(dbName('b'));
    function List() {
      const { docs, loading } = useScan<string>('todos');
      return <p data-testid="list">{loading ? 'loading' : docs.map((d) => d.value).join(',')}</p>;
    }
    render(<List />, { wrapper: providerOf(a) });
    await waitFor(() => expect(screen.getByTestId('list').textContent).toBe(''));
    await b.putMany('todos', [
      ['1', 'milk'],
      ['2', 'eggs'],
    ]);
    await waitFor(() => expect(screen.getByTestId('list').textContent).toBe('milk,eggs'));
  });

  it('shares one watch between components asking for the same list, and holds none after unmount (StrictMode)', async () => {
    const client = await clients.open(dbName('shared'));
    const subscriptions = countSubscriptions(client);
    function List({ limit }: { readonly limit?: number }) {
      const { docs } = useScan<string>('todos', limit === undefined ? {} : { limit });
      return <p>{docs.length} items</p>;
    }
    const { unmount } = render(
      <>
        <List />
        <List />
        <List limit={1} />
      </>,
      { wrapper: providerOf(client), reactStrictMode: true },
    );
    await act(() => client.collection('todos').put('k', 'v'));
    expect(await screen.findAllByText('1 items')).toHaveLength(3);
    expect(subscriptions.live()).toBe(2);
    unmount();
    expect(subscriptions.live()).toBe(0);
  });
});
