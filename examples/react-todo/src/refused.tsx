import { useRejected } from '@converge/react';

/** Writes the relay refused for good: never dropped in silence, each with retry and discard. */
export function Refused() {
  const { writes } = useRejected();
  if (writes.length === 0) return null;
  return (
    <section className="refused">
      <h2>Refused by the relay</h2>
      <ul>
        {writes.map((w) => (
          <li key={w.writeId}>
            {w.key}: {w.message} <button onClick={() => void w.retry()}>Retry</button> <button onClick={() => void w.discard()}>Discard</button>
          </li>
        ))}
      </ul>
    </section>
  );
}
