import { useClient, useDoc } from '@converge/react';
import { TODOS, type Todo } from './todo.js';

/** One item, following its own document: `pending` until the relay holds it, its concurrent versions when two devices edited it offline. */
export function TodoRow({ id }: { readonly id: string }) {
  const client = useClient();
  const todo = useDoc<Todo>(TODOS, id);
  const todos = client.collection<Todo>(TODOS);
  if (!todo.exists || todo.value === undefined) return null;
  const { text, done } = todo.value;
  return (
    <li data-todo={text} data-done={String(done)} className={todo.pending ? 'pending' : ''}>
      <label>
        <input type="checkbox" checked={done} onChange={() => void todos.put(id, { text, done: !done })} />
        <span>{text}</span>
      </label>
      {todo.pending && <small className="muted">not yet synced</small>}
      <button className="link" aria-label={`delete ${text}`} onClick={() => void todos.delete(id)}>
        ✕
      </button>
      {todo.conflicts.length > 0 && (
        <div className="conflict" data-conflict={id}>
          Edited on two devices at once. Keep:{' '}
          {[todo.value, ...todo.conflicts.flatMap((c) => (c.value === undefined ? [] : [c.value]))].map((version, i) => (
            <button key={i} onClick={() => void todos.resolve(id, version)}>
              {version.text} ({version.done ? 'done' : 'open'})
            </button>
          ))}
        </div>
      )}
    </li>
  );
}
