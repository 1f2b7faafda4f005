import { useClient, useDoc } from '@converge/react';
import { useState } from 'react';
import { LIST_KEY, LISTS } from './todo.js';

/** The list's title: one document, renamed in place. */
export function Title() {
  const client = useClient();
  const title = useDoc<string>(LISTS, LIST_KEY);
  const [draft, setDraft] = useState<string | undefined>();
  if (title.loading) return <h1>…</h1>;
  const shown = title.value ?? 'Our list';
  if (draft === undefined)
    return (
      <h1 onClick={() => setDraft(shown)} title="click to rename">
        {shown}
      </h1>
    );
  const save = () => {
    if (draft.trim() !== '' && draft !== shown) void client.collection<string>(LISTS).put(LIST_KEY, draft.trim());
    setDraft(undefined);
  };
  return (
    <h1>
      <input
        aria-label="title"
        autoFocus
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={save}
        onKeyDown={(e) => e.key === 'Enter' && save()}
      />
    </h1>
  );
}
