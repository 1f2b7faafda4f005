#!/usr/bin/env node
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { databaseUrlOf, durationOf, parseCommandLine, usageError, USAGE } from './cli-arguments.js';
import { serve } from './cli-serve.js';
import { lockDatabase } from './database-lock.js';
import { extendRecoveryWindow } from './recovery-window.js';
import { DEFAULT_RECOVERY_WINDOW_MS } from './relay-options.js';
import { SqliteStore } from './store/sqlite-store.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** `converge-relay backup <file>`: an online backup of the SQLite database `db` (a relay may be serving it). */
async function backup(file: string, db: string): Promise<void> {
  if (db !== ':memory:' && !existsSync(db)) throw usageError(`no database at ${db}: pass --db PATH`);
  const store = new SqliteStore(db);
  try {
    await store.backup(resolve(file));
    console.log(`backed up ${db} (lineage ${store.lineage}) to ${file}`);
  } finally {
    await store.close();
  }
}

/** `converge-relay restore <file>`: installs a backup as `db` (no relay may hold it) and opens the recovery window for `windowMs`. */
async function restore(file: string, db: string, windowMs: number): Promise<void> {
  if (!existsSync(file)) throw usageError(`no backup at ${file}`);
  const release = lockDatabase(db, 'restore a backup into it');
  try {
    mkdirSync(dirname(resolve(db)), { recursive: true });
    for (const suffix of ['-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
    copyFileSync(file, db);
    const store = new SqliteStore(db);
    try {
      const until = await extendRecoveryWindow(store, Date.now() + windowMs);
      console.log(`restored ${file} into ${db} (lineage ${store.lineage}); recovery window open until ${new Date(until).toISOString()}`);
    } finally {
      await store.close();
    }
  } finally {
    release();
  }
}

/** Runs the command line; rejects with a `ConvergeError` for a mistake in it. */
export async function main(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv);
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  if (values.version === true) {
    console.log(version());
    return;
  }
  const [command, file, ...extra] = positionals;
  const db = String(values.db);
  if (command === undefined) return serve(values);
  if (command !== 'backup' && command !== 'restore') throw usageError(`unknown command '${command}': the commands are backup and restore (see --help)`);
  if (databaseUrlOf(values) !== undefined) {
    throw usageError(`${command} is for SQLite: back PostgreSQL up with its own tools (pg_dump, base backups, your provider's snapshots)`);
  }
  if (file === undefined) throw usageError(`${command} needs a file: converge-relay ${command} <file> [--db PATH]`);
  if (extra.length > 0) throw usageError(`${command} takes one file, not '${positionals.slice(1).join(' ')}'`);
  if (command === 'backup') return backup(file, db);
  const recoveryWindow = values['recovery-window'];
  return restore(file, db, recoveryWindow === undefined ? DEFAULT_RECOVERY_WINDOW_MS : durationOf(recoveryWindow, '--recovery-window'));
}

/** Runs `main` as a program: any failure is one line on stderr and exit code 1, never a stack trace. */
export function runCli(argv: readonly string[]): void {
  main(argv).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`converge-relay: ${message.split('\n')[0]}`);
    process.exit(1);
  });
}

// Run when started as a program — also through the npm bin symlink (node_modules/.bin).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) runCli(process.argv.slice(2));
