import { useClient, useWriteStatus } from '@converge/react';
import { useState, type FormEvent } from 'react';
import { newTodoKey, TODOS, type Todo } from './todo.js';

const SAVED: Record<string, string> = {
  local: 'saved on this device',
  relay: 'saved on the relay',
  quorum: 'saved on a quorum',
  all: 'saved everywhere',
};

export function AddTodo() {
  const client = useClient();
  const [text, setText] = useState('');
  const [lastWrite, setLastWrite] = useState<string | undefined>();
  const status = useWriteStatus(lastWrite);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    if (text.trim() === '') return;
    const { writeId } = await client.collection<Todo>(TODOS).put(newTodoKey(), { text: text.trim(), done: false });
    setText('');
    setLastWrite(writeId);
  };

  return (
    <form className="add" onSubmit={(e) => void add(e)}>
      <input aria-label="new item" placeholder="What needs doing?" value={text} onChange={(e) => setText(e.target.value)} />
      <button type="submit">Add</button>
      {status !== undefined && (
        <small className="muted" data-last-write={status.status}>
          last item: {status.status === 'rejected' ? `refused (${status.message})` : SAVED[status.status]}
        </small>
      )}
    </form>
  );
}
