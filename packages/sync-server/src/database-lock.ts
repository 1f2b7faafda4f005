import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConvergeError } from '@converge/conflict';

/**
 * A lock file beside a relay database (`<db>.lock`, holding the pid of the relay that has the
 * database open). `serve` holds it while it runs and `restore` while it replaces the file, so
 * `restore` never swaps a database under a running relay and two relays never share one file.
 * A lock whose process is gone (a relay killed with SIGKILL) is stale and ignored. `backup`
 * takes no lock: SQLite's online backup runs beside a live relay.
 */
function lockPath(db: string): string {
  return `${db}.lock`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the live process holding the database's lock, or undefined. */
export function lockHolder(db: string): number | undefined {
  const file = lockPath(db);
  if (db === ':memory:' || !existsSync(file)) return undefined;
  const pid = Number((JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid);
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
}

/** Takes the database's lock for this process; throws when a live process holds it. Returns the release function. */
export function lockDatabase(db: string, purpose: string): () => void {
  if (db === ':memory:') return () => undefined;
  const holder = lockHolder(db);
  if (holder !== undefined) {
    throw new ConvergeError(
      'bad_message',
      `${db} is open in another relay (pid ${holder}): stop it before you ${purpose} (or remove ${lockPath(db)} if no relay runs)`,
    );
  }
  mkdirSync(dirname(db), { recursive: true });
  writeFileSync(lockPath(db), JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
  return () => rmSync(lockPath(db), { force: true });
}
