// A browser app built by Vite from the installed tarballs: a client with IndexedDB (the default
// storage) that syncs through the page origin's relay at /sync. It reads what an earlier visit
// left, writes once acknowledged by the relay, and shows the outcome in #result.
import { createClient } from '@converge/client';

interface Note {
  readonly text: string;
  readonly visits: number;
}

async function main(): Promise<object> {
  const client = await createClient({ name: 'pack-install', url: `${location.origin.replace(/^http/, 'ws')}/sync` });
  try {
    const notes = client.collection<Note>('notes');
    const before = await notes.get('n-1');
    const visits = (before?.value?.visits ?? 0) + 1;
    const receipt = await notes.put('n-1', { text: 'from the page', visits }, { ack: 'relay' });
    const after = await notes.get('n-1');
    return { visits: after?.value?.visits, level: receipt.level, storage: client.status.get().storage };
  } finally {
    await client.close();
  }
}

const output = document.querySelector<HTMLOutputElement>('#result')!;
main().then(
  (result) => (output.value = JSON.stringify(result)),
  (error: unknown) => (output.value = JSON.stringify({ error: String(error) })),
);
