// @vitest-environment happy-dom
import type { WriteReceipt } from '@converge/client';
import { act, render, renderHook, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { countSubscriptions, dbName, providerOf, testClients } from './test-support/clients.js';
import { useOutbox } from './use-outbox.js';
import { useRejected } from './use-rejected.js';
import { useSyncStatus } from './use-sync-status.js';
import { useWriteStatus } from './use-write-status.js';

const clients = testClients();
const STOCK = { stock: { mode: 'leader-follower', strategy: 'lww' } } as const;

describe('useSyncStatus', () => {
  it('follows the connection: synced with the relay, offline when paused, and is the client’s own status object', async () => {
    await clients.startRelay();
    const client = await clients.open(dbName('status'));
    const { result } = renderHook(() => useSyncStatus(), { wrapper: providerOf(client) });
    await waitFor(() => expect(result.current.connection).toBe('synced'));
    expect(result.current).toBe(client.status.get());
    act(() => client.pause());
    expect(result.current).toMatchObject({ connection: 'offline', paused: true });
    await act(() => client.collection('notes').put('k', 1));
    expect(result.current.pending).toBe(1);
    act(() => client.resume());
    await waitFor(() => expect(result.current).toMatchObject({ connection: 'synced', pending: 0, paused: false }));
  });
});

describe('useOutbox and useWriteStatus', () => {
  it('list pending writes while offline and follow each write from local to relay', async () => {
    await clients.startRelay();
    const client = await clients.open(dbName('outbox'), { paused: true });
    let receipt: WriteReceipt | undefined;
    const { result, rerender } = renderHook(({ id }: { id: string | undefined }) => ({ outbox: useOutbox(), status: useWriteStatus(id) }), {
      wrapper: providerOf(client),
      initialProps: { id: undefined as string | undefined },
    });
    await waitFor(() => expect(result.current.outbox.loading).toBe(false));
    expect(result.current.outbox.writes).toEqual([]);
    expect(result.current.status).toBeUndefined();
    await act(async () => {
      receipt = await client.collection('notes').put('a', 1);
      await client.collection('notes').put('b', 2);
    });
    await waitFor(() => expect(result.current.outbox.writes.map((w) => w.key)).toEqual(['a', 'b']));
    rerender({ id: receipt!.writeId });
    await waitFor(() => expect(result.current.status).toMatchObject({ writeId: receipt!.writeId, status: 'local', key: 'a' }));
    const listed = result.current.outbox;
    act(() => client.resume());
    await waitFor(() => expect(result.current.status?.status).toBe('relay'));
    await waitFor(() => expect(result.current.outbox.writes).toEqual([]));
    expect(result.current.outbox).not.toBe(listed);
  });

  it('knows nothing of an unknown write', async () => {
    const client = await clients.open(dbName('unknown'));
    const { result } = renderHook(() => useWriteStatus('nobody:1'), { wrapper: providerOf(client) });
    await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
    expect(result.current).toBeUndefined();
  });
});

describe('useRejected', () => {
  /** b's write of `sku` from a stale read, refused by the leader (`conflict_rejected`). */
  async function refusedWrite(value: number) {
    await clients.startRelay({ collections: STOCK });
    const a = await clients.open(dbName('a'), { collections: STOCK });
    const b = await clients.open(dbName('b'), { collections: STOCK });
    await a.collection('stock').put('sku', 10, { ack: 'relay' });
    await waitFor(async () => expect((await b.collection('stock').get('sku'))?.value).toBe(10));
    b.pause();
    await a.collection('stock').put('sku', 9, { ack: 'relay' });
    const refused = b
      .collection('stock')
      .put('sku', value, { ack: 'relay' })
      .catch(() => undefined);
    return { a, b, refused };
  }

  function Refused() {
    const { writes, loading } = useRejected();
    if (loading) return <p>loading</p>;
    return (
      <ul>
        {writes.map((w) => (
          <li key={w.writeId}>
            {w.key}={String(w.value)} {w.code}
            <button onClick={() => void w.retry({ ack: 'relay' })}>retry {w.key}</button>
            <button onClick={() => void w.discard()}>discard {w.key}</button>
          </li>
        ))}
        <li>{writes.length} refused</li>
      </ul>
    );
  }

  it('shows a write the relay refused; retry writes it again over the current value and it leaves the list', async () => {
    const { a, b, refused } = await refusedWrite(8);
    render(<Refused />, { wrapper: providerOf(b) });
    await screen.findByText('0 refused');
    b.resume();
    await refused;
    await screen.findByText('sku=8 conflict_rejected');
    act(() => screen.getByText('retry sku').click());
    await screen.findByText('0 refused');
    await waitFor(async () => expect((await a.collection('stock').get('sku'))?.value).toBe(8));
  });

  it('discard forgets the refused write; subscriptions are balanced after unmount', async () => {
    const { b, refused } = await refusedWrite(7);
    const subscriptions = countSubscriptions(b);
    const { unmount } = render(<Refused />, { wrapper: providerOf(b), reactStrictMode: true });
    b.resume();
    await refused;
    await screen.findByText('sku=7 conflict_rejected');
    act(() => screen.getByText('discard sku').click());
    await screen.findByText('0 refused');
    expect(await b.rejected()).toEqual([]);
    unmount();
    expect(subscriptions.live()).toBe(0);
  });
});
