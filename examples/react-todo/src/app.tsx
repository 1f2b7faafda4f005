import { useScan } from '@converge/react';
import { AddTodo } from './add-todo.js';
import { Refused } from './refused.js';
import { SyncBar } from './sync-bar.js';
import { Title } from './title.js';
import { PREFIX, TODOS, type Todo } from './todo.js';
import { TodoRow } from './todo-row.js';

export function App({ device }: { readonly device: string }) {
  // The list's keys; each row follows its own document (and renders alone when it changes).
  const { docs, loading } = useScan<Todo>(TODOS, { prefix: PREFIX });
  return (
    <main>
      <SyncBar device={device} />
      <Title />
      <AddTodo />
      {loading ? (
        <p className="muted">Opening the list…</p>
      ) : docs.length === 0 ? (
        <p className="muted">Nothing to do.</p>
      ) : (
        <ul className="todos">
          {docs.map((d) => (
            <TodoRow key={d.key} id={d.key} />
          ))}
        </ul>
      )}
      <Refused />
    </main>
  );
}
