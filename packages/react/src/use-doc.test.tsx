// @vitest-environment happy-dom
import { eventually } from '@converge/client/testing';
import { act, render, renderHook, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { countSubscriptions, dbName, providerOf, testClients } from './test-support/clients.js';
import { useDoc } from './use-doc.js';

const clients = testClients();

describe('useDoc', () => {
  it('is loading until storage answers, then shows the stored value; an absent key reads as not existing', async () => {
    const client = await clients.open(dbName('load'));
    await client.collection('notes').put('n1', { text: 'buy milk' });
    const { result } = renderHook(() => [useDoc<{ text: string }>('notes', 'n1'), useDoc('notes', 'missing')] as const, { wrapper: providerOf(client) });
    expect(result.current[0]).toMatchObject({ loading: true, exists: false, value: undefined });
    await waitFor(() => expect(result.current[0].loading).toBe(false));
    // No relay: the write waits in the outbox.
    expect(result.current[0]).toMatchObject({ value: { text: 'buy milk' }, exists: true, conflicts: [], pending: true, confirmed: false, error: undefined });
    expect(result.current[1]).toMatchObject({ loading: false, exists: false, value: undefined });
  });

  it('a local write shows at once as pending; the relay’s ack turns it confirmed; a delete makes it absent', async () => {
    await clients.startRelay();
    const client = await clients.open(dbName('ack'));
    const notes = client.collection<string>('notes');
    const { result } = renderHook(() => useDoc<string>('notes', 'k'), { wrapper: providerOf(client) });
    await waitFor(() => expect(result.current.loading).toBe(false));
    client.pause();
    await act(() => notes.put('k', 'draft'));
    expect(result.current).toMatchObject({ value: 'draft', exists: true, pending: true, confirmed: false });
    client.resume();
    await waitFor(() => expect(result.current).toMatchObject({ value: 'draft', pending: false, confirmed: true }));
    await act(() => notes.delete('k'));
    expect(result.current).toMatchObject({ exists: false, value: undefined });
  });

  it('shows another replica’s write through the relay, and its concurrent write as a conflict until resolved', async () => {
    await clients.startRelay();
    const a = await clients.open(dbName('a'));
    const b = await clients.open(dbName('b'));
    render(<Note id="k" />, { wrapper: providerOf(a) });
    await screen.findByText('(none)');
    await b.collection('notes').put('k', 'from b', { ack: 'relay' });
    await screen.findByText('from b');
    a.pause();
    b.pause();
    await act(() => a.collection('notes').put('k', 'tea'));
    await b.collection('notes').put('k', 'coffee');
    a.resume();
    b.resume();
    const conflicted = await screen.findByText(/conflicts: (tea|coffee)/);
    expect(conflicted.textContent).not.toBe('conflicts: '); // one value shown, the other one listed
    await act(() => a.collection('notes').resolve('k', 'tea and coffee'));
    await screen.findByText('tea and coffee');
    expect(screen.getByTestId('conflicts').textContent).toBe('conflicts: ');
  });

  it('renders only when its key changes: writes to another key or collection cause no render', async () => {
    const client = await clients.open(dbName('renders'));
    const renders = { a: 0, b: 0 };
    const Counted = ({ id }: { readonly id: 'a' | 'b' }) => {
      renders[id]++;
      const doc = useDoc<number>('notes', id);
      return <p data-testid={id}>{doc.loading ? '…' : String(doc.value)}</p>;
    };
    render(
      <>
        <Counted id="a" />
        <Counted id="b" />
      </>,
      { wrapper: providerOf(client) },
    );
    await waitFor(() => expect(screen.getByTestId('b').textContent).toBe('undefined'));
    const settled = { ...renders };
    const notes = client.collection<number>('notes');
    for (let i = 1; i <= 10; i++) await act(() => notes.put('a', i));
    expect(screen.getByTestId('a').textContent).toBe('10');
    expect(renders.a).toBe(settled.a + 10); // one render per change of its key
    expect(renders.b).toBe(settled.b);
    // Unrelated changes: other keys (one that shares a's prefix), another collection, a batch.
    for (let i = 0; i < 20; i++) {
      await act(async () => {
        await notes.put(`a-${i}`, i);
        await client.collection('other').put('a', i);
        await client.putMany('notes', [[`x${i}`, i]]);
      });
    }
    expect(renders).toEqual({ a: settled.a + 10, b: settled.b });
  });

  it('keeps one snapshot object until the key changes, shared by every component reading the key', async () => {
    const client = await clients.open(dbName('stable'));
    await client.collection('notes').put('k', { deep: [1, 2] });
    const { result, rerender } = renderHook(() => [useDoc('notes', 'k'), useDoc('notes', 'k')] as const, { wrapper: providerOf(client) });
    await waitFor(() => expect(result.current[0].exists).toBe(true));
    const first = result.current[0];
    expect(result.current[1]).toBe(first);
    rerender();
    rerender();
    expect(result.current[0]).toBe(first);
    await act(() => client.collection('notes').put('k', { deep: [1, 2, 3] }));
    expect(result.current[0]).not.toBe(first);
    expect(result.current[0].value).toEqual({ deep: [1, 2, 3] });
    expect(result.current[1]).toBe(result.current[0]);
  });

  it('under StrictMode’s double mount holds one watch per key while mounted and none after unmount', async () => {
    const client = await clients.open(dbName('strict'));
    const subscriptions = countSubscriptions(client);
    await client.collection('notes').put('a', 1);
    const { unmount } = render(
      <>
        <Note id="a" />
        <Note id="a" />
        <Note id="b" />
      </>,
      { wrapper: providerOf(client), reactStrictMode: true },
    );
    await screen.findAllByText('1');
    expect(subscriptions.opened()).toBeGreaterThan(2); // StrictMode did subscribe, unsubscribe and subscribe again
    expect(subscriptions.live()).toBe(4); // one watch for 'a' (shared), one for 'b', and one acked and one rejected listener for both
    await act(() => client.collection('notes').put('a', 2));
    expect(await screen.findAllByText('2')).toHaveLength(2);
    unmount();
    expect(subscriptions.live()).toBe(0);
    // A later mount starts afresh and is current.
    await client.collection('notes').put('a', 3);
    render(<Note id="a" />, { wrapper: providerOf(client), reactStrictMode: true });
    await screen.findByText('3');
    expect(subscriptions.live()).toBe(3); // its watch, and the acked and rejected listeners
  });

  it('follows the new key when the key changes, and lets go of the old one', async () => {
    const client = await clients.open(dbName('switch'));
    await client.putMany('notes', [
      ['a', 'first'],
      ['b', 'second'],
    ]);
    const subscriptions = countSubscriptions(client);
    const { result, rerender } = renderHook(({ id }: { id: string }) => useDoc<string>('notes', id), {
      wrapper: providerOf(client),
      initialProps: { id: 'a' },
    });
    await waitFor(() => expect(result.current.value).toBe('first'));
    rerender({ id: 'b' });
    await waitFor(() => expect(result.current.value).toBe('second'));
    expect(subscriptions.live()).toBe(3); // the watch of 'b', and the acked and rejected listeners
    await act(() => client.collection('notes').put('a', 'changed'));
    expect(result.current.value).toBe('second');
  });

  it('reports a failed read instead of loading forever', async () => {
    const client = await clients.open(dbName('closed'));
    await client.close();
    const { result } = renderHook(() => useDoc('notes', 'k'), { wrapper: providerOf(client) });
    await eventually(() => expect(result.current.error).toBeInstanceOf(Error));
    expect(result.current.loading).toBe(false);
  });
});

function Note({ id }: { readonly id: string }) {
  const doc = useDoc<string>('notes', id);
  if (doc.loading) return <p>loading</p>;
  return (
    <div>
      <p>{doc.exists ? String(doc.value) : '(none)'}</p>
      <p data-testid="conflicts">conflicts: {doc.conflicts.map((c) => c.value).join(', ')}</p>
    </div>
  );
}
