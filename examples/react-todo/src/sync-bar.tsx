import { useClient, useOutbox, useSyncStatus } from '@converge/react';

/** The connection, the outbox, and an offline switch (`pause`/`resume` close and reopen the socket). */
export function SyncBar({ device }: { readonly device: string }) {
  const client = useClient();
  const { connection, paused, error } = useSyncStatus();
  const { writes } = useOutbox();
  return (
    <header className="bar">
      <span>
        <b>{device}</b> · <span data-connection={connection}>{connection}</span>
        {writes.length > 0 && <span data-outbox={writes.length}> · {writes.length} change(s) to send</span>}
        {error !== undefined && <span className="error"> · {error.message}</span>}
      </span>
      <button onClick={() => (paused ? client.resume() : client.pause())}>{paused ? 'Go online' : 'Go offline'}</button>
    </header>
  );
}
