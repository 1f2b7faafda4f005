import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../cli.js';
import { RELAY_SETTING_NAMES } from '../relay-config.js';
import { TEST_DATABASE_URL } from '../testing/postgres-fixture.js';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';
import { logSink, says } from './harness.js';
import { spawnRelay, stopped, type RelayProcess } from './relay-process.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
const dirs: string[] = [];
const children: RelayProcess[] = [];
const clients: ProtocolClient[] = [];
let relay: TestRelay | undefined;
let blocker: Server | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of clients.splice(0)) c.close();
  for (const c of children.splice(0)) c.child.kill('SIGKILL');
  await relay?.close();
  relay = undefined;
  await new Promise((resolve) => (blocker === undefined ? resolve(undefined) : blocker.close(resolve)));
  blocker = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'converge-cli-'));
  dirs.push(dir);
  return dir;
}

/** What `converge-relay` prints to stdout for these arguments (commands that end). */
async function printed(args: string[]): Promise<string> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  await main(args);
  return lines.join('\n');
}

describe('converge-relay: mistakes in how it was started', () => {
  it('a bad --port, an unreadable config, a bad duration: one clear error, and the database is never opened', async () => {
    const db = join(tempDir(), 'relay.db');
    await expect(main(['--port', 'abc', '--db', db])).rejects.toThrow(/^--port must be a number from 0 to 65535, not 'abc'$/);
    await expect(main(['--config', join(tempDir(), 'missing.json'), '--db', db])).rejects.toThrow(/^cannot read the config file .*missing\.json: ENOENT/);
    await expect(main(['--recovery-window', 'soon', '--db', db])).rejects.toThrow(/--recovery-window must be a duration/);
    await expect(main(['--tls-cert', 'cert.pem', '--db', db])).rejects.toThrow(/--tls-cert and --tls-key go together/);
    await expect(main(['--frobnicate'])).rejects.toThrow(/Unknown option '--frobnicate' \(see --help\)/);
    await expect(main(['serve-please'])).rejects.toThrow(/unknown command 'serve-please'/);
    expect(existsSync(db)).toBe(false);
  });

  it('a port in use: one line naming it, before the database is opened', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const db = join(tempDir(), 'relay.db');
    await expect(main(['--port', String(port), '--db', db])).rejects.toThrow(new RegExp(`^port ${port} on 127\\.0\\.0\\.1 is already in use`));
    expect(existsSync(db)).toBe(false);
  });

  it('as a program: exit code 1 and a single line on stderr, never a stack trace', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', cli, '--port', 'abc'], { cwd: root, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual(["converge-relay: --port must be a number from 0 to 65535, not 'abc'"]);
  }, 30_000);

  it('backup without a file says so', async () => {
    await expect(main(['backup'])).rejects.toThrow(/^backup needs a file: converge-relay backup <file> \[--db PATH\]$/);
    await expect(main(['restore'])).rejects.toThrow(/^restore needs a file/);
    await expect(main(['backup', join(tempDir(), 'b.db'), '--db', join(tempDir(), 'none.db')])).rejects.toThrow(/no database at/);
  });
});

describe('converge-relay --store postgres://…', () => {
  it('refuses what cannot work with PostgreSQL before connecting: no cursor secret, another scheme, --db beside it, backup and restore', async () => {
    const url = 'postgres://nobody@127.0.0.1:1/none';
    const saved = process.env['CONVERGE_CURSOR_SECRET'];
    delete process.env['CONVERGE_CURSOR_SECRET'];
    try {
      await expect(main(['--store', url])).rejects.toThrow(/pass --cursor-secret \(or CONVERGE_CURSOR_SECRET\)/);
    } finally {
      if (saved !== undefined) process.env['CONVERGE_CURSOR_SECRET'] = saved;
    }
    await expect(main(['--store', 'mysql://x/y', '--cursor-secret', 's'])).rejects.toThrow(/--store takes a postgres:\/\/ URL/);
    await expect(main(['--store', url, '--db', join(tempDir(), 'r.db'), '--cursor-secret', 's'])).rejects.toThrow(/--store and --db name two databases/);
    await expect(main(['backup', join(tempDir(), 'b.db'), '--store', url])).rejects.toThrow(/backup is for SQLite: back PostgreSQL up with its own tools/);
    await expect(main(['restore', join(tempDir(), 'b.db'), '--store', url])).rejects.toThrow(/restore is for SQLite/);
  });

  it('serves from PostgreSQL, creating and migrating its schema, and logs where', async () => {
    const schema = `test_cli_${process.pid}`;
    const relay = await spawnRelay(['--store', TEST_DATABASE_URL, '--schema', schema, '--cursor-secret', 'cli-test-cursor-secret']);
    try {
      const client = await ProtocolClient.connect(relay.url, { replicaId: 'cliWriterAAAAAAAAAAAAAA', subscriptions: [] });
      await client.next('welcome');
      expect((await client.push([client.blind('notes', 'k', 1)])).results[0]).toMatchObject({ status: 'accepted', seq: 1 });
      client.close();
    } finally {
      relay.child.kill('SIGTERM');
      await stopped(relay.child);
      const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.end({ timeout: 1 });
    }
  }, 30_000);
});

describe('converge-relay: help and version', () => {
  it('-h and --help print the usage; its config line lists exactly the keys a config file may hold', async () => {
    const help = await printed(['-h']);
    expect(await printed(['--help'])).toBe(help);
    expect(help).toMatch(/^converge-relay — the Converge sync relay/);
    const keys = /its keys:\n\s+(.*)\n/.exec(help)![1]!.split(', ');
    expect(keys).toEqual([...RELAY_SETTING_NAMES]);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await printed(['--version'])).toBe(pkg.version);
  });
});

describe('converge-relay restore beside a running relay', () => {
  it('is refused while a relay has the database open, and the live relay keeps every write', async () => {
    const dir = tempDir();
    const db = join(dir, 'relay.db');
    const running = await spawnRelay(['--db', db]);
    children.push(running);
    const writer = await ProtocolClient.connect(running.url, { replicaId: 'writer', subscriptions: [] });
    clients.push(writer);
    await writer.next('welcome');
    await writer.push([writer.blind('notes', 'before', 1)]);
    await main(['backup', join(dir, 'backup.db'), '--db', db]); // a backup runs beside the relay
    await writer.push([writer.blind('notes', 'after', 2)]);
    await expect(main(['restore', join(dir, 'backup.db'), '--db', db])).rejects.toThrow(/is open in another relay \(pid \d+\): stop it before you restore/);
    const reader = await ProtocolClient.connect(running.url, { replicaId: 'reader', subscriptions: [{ collection: 'notes', cursor: null }] });
    clients.push(reader);
    const done = await reader.next('changes', (f) => f.done === true);
    expect(done.watermark).toBe(2);
    expect(reader.frames.flatMap((f) => (f.type === 'changes' ? f.docs.map((d) => d.key) : [])).sort()).toEqual(['after', 'before']);
    // A second relay on the same database is refused the same way.
    await expect(main(['--port', '0', '--db', db])).rejects.toThrow(/is open in another relay/);
  }, 60_000);
});

describe('converge-relay --recovery-window', () => {
  it('opens the recovery window for that long on a fresh database; without it a fresh database opens none', async () => {
    const dir = tempDir();
    const plain = await spawnRelay(['--db', join(dir, 'plain.db')]);
    children.push(plain);
    const a = await ProtocolClient.connect(plain.url, { replicaId: 'replicaA', subscriptions: [] });
    clients.push(a);
    expect((await a.next('welcome')).recovery).toBeUndefined();

    for (const flags of [['--recovery-window', '2h'], ['--open-recovery-window']]) {
      const opened = await spawnRelay(['--db', join(dir, `${flags[0]!.slice(2)}.db`), ...flags]);
      children.push(opened);
      const b = await ProtocolClient.connect(opened.url, { replicaId: 'replicaB', subscriptions: [] });
      clients.push(b);
      expect((await b.next('welcome')).recovery).toBe(true);
    }
  }, 60_000);
});

describe('converge-relay metrics access', () => {
  it('no /metrics on the sync port by default; --metrics-port serves them on a listener of their own on 127.0.0.1', async () => {
    const dir = tempDir();
    const plain = await spawnRelay(['--db', join(dir, 'plain.db')]);
    children.push(plain);
    expect(plain.metricsPort).toBeUndefined();
    const refused = await fetch(`http://127.0.0.1:${plain.port}/metrics`);
    expect(refused.status).toBe(404);
    expect(await refused.text()).not.toMatch(/converge_/);
    expect(await (await fetch(`http://127.0.0.1:${plain.port}/healthz`)).json()).toEqual({ status: 'ok' });

    const separate = await spawnRelay(['--db', join(dir, 'separate.db'), '--metrics-port', '0']);
    children.push(separate);
    expect(separate.metricsPort).toEqual(expect.any(Number));
    expect(separate.metricsPort).not.toBe(separate.port);
    expect((await fetch(`http://127.0.0.1:${separate.port}/metrics`)).status).toBe(404);
    const served = await fetch(`http://127.0.0.1:${separate.metricsPort}/metrics`);
    expect(served.status).toBe(200);
    expect(await served.text()).toMatch(/converge_connections 0/);
    expect((await fetch(`http://127.0.0.1:${separate.metricsPort}/`)).status).toBe(404);
  }, 60_000);

  it('--metrics-token serves /metrics on the sync port to requests bearing the token only', async () => {
    const token = 'an-operator-metrics-token';
    const relayProcess = await spawnRelay(['--db', join(tempDir(), 'relay.db'), '--metrics-token', token]);
    children.push(relayProcess);
    const url = `http://127.0.0.1:${relayProcess.port}/metrics`;
    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toMatch(/converge_/);
    expect((await fetch(url, { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(401);
    const served = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(served.status).toBe(200);
    expect(await served.text()).toMatch(/converge_connections 0/);
  }, 60_000);

  it('a bad --metrics-port or a short --metrics-token is refused before the database is opened', async () => {
    const db = join(tempDir(), 'relay.db');
    await expect(main(['--metrics-port', 'x', '--db', db])).rejects.toThrow(/^--metrics-port must be a number from 0 to 65535, not 'x'$/);
    await expect(main(['--metrics-token', 'short', '--db', db])).rejects.toThrow(/^--metrics-token must be at least 16 characters/);
    expect(existsSync(db)).toBe(false);
  });
});

describe('converge-relay --config', () => {
  it('a collection given a mode but no strategy gets siblings, as the README says', async () => {
    const dir = tempDir();
    const config = join(dir, 'relay.config.json');
    writeFileSync(config, JSON.stringify({ collections: { notes: { mode: 'multi-leader' }, stock: { mode: 'leader-follower' } } }));
    const relayProcess = await spawnRelay(['--db', join(dir, 'relay.db'), '--config', config]);
    children.push(relayProcess);
    const c = await ProtocolClient.connect(relayProcess.url, { replicaId: 'replicaA', subscriptions: [] });
    clients.push(c);
    const welcome = await c.next('welcome');
    expect(welcome.collections['notes']).toMatchObject({ mode: 'multi-leader', strategy: 'siblings' });
    expect(welcome.collections['stock']).toMatchObject({ mode: 'leader-follower', strategy: 'siblings' });
  }, 60_000);
});

describe('what an operator sees', () => {
  it('GET / answers a short page naming the endpoints', async () => {
    relay = await startTestRelay();
    const page = await fetch(`http://127.0.0.1:${relay.port}/`);
    expect(page.status).toBe(200);
    const text = await page.text();
    for (const endpoint of ['/healthz', '/metrics', 'WebSocket']) expect(text).toContain(endpoint);
    expect((await fetch(`http://127.0.0.1:${relay.port}/nothing`)).status).toBe(404);
  });

  it('one info line per connection (principal, replica, collections) and a periodic summary', async () => {
    const log = logSink();
    relay = await startTestRelay({ logger: log.logger, summaryIntervalMs: 20 });
    const c = await ProtocolClient.connect(relay.url, { replicaId: 'replicaA', subscriptions: [{ collection: 'notes', cursor: null }] });
    clients.push(c);
    await c.push([c.blind('notes', 'k', 1)]);
    const summary = await log.next((l) => l['connections'] === 1);
    expect(log.lines.filter(says('client connected'))).toEqual([
      expect.objectContaining({ level: 30, principal: 'anonymous', replicaId: 'replicaA', collections: ['notes'] }),
    ]);
    expect(summary).toMatchObject({ level: 30, changesPerSecond: expect.any(Number) });
  });
});
