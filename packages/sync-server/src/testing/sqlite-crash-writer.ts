// A child process for the SQLite durability test, run as
// `node --import tsx sqlite-crash-writer.ts <database> <transactions>`: it commits transactions
// in a loop and, after each `transact` resolves, writes one line to stdout (synchronously, so the
// line is in the pipe before the next commit starts): `<i> <seq> <hash> <seq> <hash>`. The test
// kills it with SIGKILL mid-loop and checks that every reported commit survived.
import { existsSync, realpathSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { SqliteStore } from '../store/sqlite-store.js';
import { writeHeadOf } from './store-fixtures.js';

export const CRASH_WRITER_REPLICAS = ['crashWriterReplicaOne01', 'crashWriterReplicaTwo02'] as const;

/** Transaction `i` puts `k<i>` (dot [one, i]) and `latest` (dot [two, i]): seqs 2i − 1 and 2i. */
export function crashWriterChanges(i: number): { key: string; state: string; dot: readonly [string, number] }[] {
  return [
    { key: `k${i}`, state: `state-${i}`, dot: [CRASH_WRITER_REPLICAS[0], i] },
    { key: 'latest', state: `latest-${i}`, dot: [CRASH_WRITER_REPLICAS[1], i] },
  ];
}

async function main(path: string, transactions: number): Promise<void> {
  const store = new SqliteStore(path);
  writeSync(1, `lineage ${store.lineage}\n`);
  for (let i = 1; i <= transactions; i++) {
    const positions = await store.transact(async (tx) => {
      await tx.noteWrite(CRASH_WRITER_REPLICAS[0], writeHeadOf(i));
      const out = [];
      for (const change of crashWriterChanges(i)) out.push(await tx.put('log', change.key, change.state, change.dot));
      return out;
    });
    writeSync(1, `${i} ${positions.map((position) => `${position.seq} ${position.hash}`).join(' ')}\n`);
  }
  await store.close();
}

const [script, path, transactions] = process.argv.slice(1);
if (script !== undefined && existsSync(script) && import.meta.url === pathToFileURL(realpathSync(script)).href) {
  if (path === undefined || transactions === undefined) {
    throw new Error('usage: sqlite-crash-writer.ts <database> <transactions>');
  }
  void main(path, Number(transactions));
}
