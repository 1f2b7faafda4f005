import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConvergeError } from '@converge/conflict';
import { parseDuration } from './duration.js';
import { RELAY_SETTING_NAMES } from './relay-config.js';

export const DEFAULT_DB = './data/converge.db';

export const USAGE = `converge-relay — the Converge sync relay

  converge-relay [options]                   serve
  converge-relay backup <file> [--db PATH]   online backup of the database to <file> (beside a running relay)
  converge-relay restore <file> [--db PATH]  install a backup (relay stopped) and open the recovery window

options:
  --port N                 TCP port (default 8787; 0 picks a free one)
  --host ADDR              address to bind (default 127.0.0.1)
  --db PATH                SQLite database file (default ./data/converge.db; ':memory:' allowed)
  --store URL              PostgreSQL instead of SQLite: postgres://user@host[,host2…]/db[?target_session_attrs=primary]
                           (or env CONVERGE_DATABASE_URL); several relays may share it. Needs a cursor secret
  --schema NAME            the PostgreSQL schema of the relay's tables (default converge; created and migrated)
  --replica-url URL        with --store: a standby to serve catch-up and live changes from (follower reads;
                           or env CONVERGE_REPLICA_URL); writes still go to --store
  --ack-timeout D          a quorum/all push not confirmed within D (default 5s) gets confirm ack_timeout;
                           the relay keeps waiting and confirms later
  --config FILE            relay.config.json, or a .js/.mjs module exporting it as default; its keys:
                           ${RELAY_SETTING_NAMES.join(', ')}
  --jwt-secret S           verify HS256 JWTs sent in hello (or env CONVERGE_JWT_SECRET); none: anonymous
  --allowed-origins A,B    WebSocket Origins allowed (default: any; requests without Origin always)
  --tls-cert F --tls-key F serve wss:// directly
  --cursor-secret S        MAC key for cursors (or env CONVERGE_CURSOR_SECRET; default: generated once, kept beside the database)
  --metrics-port N         serve GET /metrics on a listener of its own (0 picks a free one); default: none
  --metrics-host ADDR      address of that listener (default 127.0.0.1)
  --metrics-token T        bearer token (≥ 16 characters, or env CONVERGE_METRICS_TOKEN) that GET /metrics
                           requires; with it the sync port serves /metrics too. Without a token or a
                           metrics port, no metrics are served
  --recovery-window D      open the recovery window now, for D (e.g. 90s, 30m, 24h): the relay lost
                           its data and its cursor secret; with restore, how long its window stays open
  --open-recovery-window   the same, for the default 24h
  -h, --help               this text
  --version                the relay's version

endpoints: WebSocket on /, GET /healthz ({"status":"ok"}), GET / (a page naming them),
           GET /metrics with --metrics-token or on --metrics-port`;

/** A mistake in how the relay was started: printed as one line, exit code 1. */
export function usageError(message: string): ConvergeError {
  return new ConvergeError('bad_message', message);
}

/** The command line's options and positionals; throws a `usageError` for a mistake in it. */
export function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        db: { type: 'string', default: DEFAULT_DB },
        store: { type: 'string' },
        schema: { type: 'string', default: 'converge' },
        'replica-url': { type: 'string' },
        'ack-timeout': { type: 'string' },
        config: { type: 'string' },
        'jwt-secret': { type: 'string' },
        'allowed-origins': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'cursor-secret': { type: 'string' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string', default: '127.0.0.1' },
        'metrics-token': { type: 'string' },
        'recovery-window': { type: 'string' },
        'open-recovery-window': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw usageError(`${(error as Error).message.split('. ')[0]!} (see --help)`);
  }
}

export type Values = Record<string, string | boolean | undefined>;

export function portOf(text: string, option = '--port'): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw usageError(`${option} must be a number from 0 to 65535, not '${text}'`);
  return port;
}

export function durationOf(text: string, option: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw usageError(`${option} must be a duration such as 90s, 30m or 24h, not '${text}'`);
  }
}

export function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw usageError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The PostgreSQL URL to serve from (`--store`, else `CONVERGE_DATABASE_URL`), or undefined for SQLite. */
export function databaseUrlOf(values: Values): string | undefined {
  const url = (values['store'] as string | undefined) ?? process.env['CONVERGE_DATABASE_URL'];
  if (url === undefined || url === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw usageError(`--store takes a postgres:// URL (for SQLite pass --db PATH), not '${url.split(':')[0]}:…'`);
  if (values['db'] !== undefined && values['db'] !== DEFAULT_DB) throw usageError('--store and --db name two databases: pass one');
  return url;
}
