import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_VERSION } from '@converge/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MemoryStore } from '../store/memory-store.js';
import type { StoreTx } from '../store/relay-store.js';
import { relayHarness } from './harness.js';
import { spawnRelay, type RelayProcess } from './relay-process.js';

const harness = relayHarness();

/** A store whose next transaction fails as a broken disk would. */
class FlakyStore extends MemoryStore {
  failNext = false;
  override transact<T>(fn: (tx: StoreTx) => Promise<T> | T): Promise<T> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('disk on fire'));
    }
    return super.transact(fn);
  }
}

describe('failures stay inside one session', () => {
  it('an unexpected exception closes that session with internal (1011); other clients keep working', async () => {
    const store = new FlakyStore();
    await harness.start({ store });
    const victim = await harness.client('victim');
    const bystander = await harness.client('bystander');
    await victim.next('welcome');
    await bystander.next('changes', (f) => f.done === true);
    store.failNext = true;
    victim.send({ type: 'push', id: 'p', ack: 'relay', changes: [victim.blind('notes', 'k', 1)] });
    expect(await victim.next('error')).toMatchObject({ code: 'internal' });
    expect((await victim.closed).code).toBe(1011);
    const ack = await bystander.push([bystander.blind('notes', 'k2', 2)]);
    expect(ack.results[0]).toMatchObject({ status: 'accepted' });
  });
});

/**
 * The transaction with `put` of the key `poison` failing, as a bug in one change would: with
 * a rejection, or (`direct`, the view that answers at once) a throw.
 */
function poisoned<T extends object>(tx: T, direct: boolean): T {
  return new Proxy(tx, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (name === 'direct' && value !== undefined) return poisoned(value as object, true);
      if (name !== 'put' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return (collection: string, key: string, ...rest: unknown[]) => {
        if (key !== 'poison') return (value as (...args: unknown[]) => unknown).call(target, collection, key, ...rest);
        if (direct) throw new Error('poisoned change');
        return Promise.reject(new Error('poisoned change'));
      };
    },
  });
}

/** A store that fails any transaction writing the key `poison`. */
class PoisonStore extends MemoryStore {
  override transact<T>(fn: (tx: StoreTx) => Promise<T> | T): Promise<T> {
    return super.transact((tx) => fn(poisoned(tx, false)));
  }
}

describe('group commit', () => {
  it('pushes from many connections commit together; a push that breaks the transaction fails alone', async () => {
    await harness.start({ store: new PoisonStore() });
    const clients = await Promise.all(['c0', 'c1', 'c2', 'c3'].map((id) => harness.client(id)));
    await Promise.all(clients.map((c) => c.next('welcome')));
    const [bad, ...good] = clients;
    bad!.send({ type: 'push', id: 'x', ack: 'relay', changes: [bad!.blind('notes', 'poison', 1)] });
    const acks = await Promise.all(good.map((c, i) => c.push([c.blind('notes', `ok${i}`, i)])));
    expect(acks.map((a) => a.results[0]?.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(await bad!.next('error')).toMatchObject({ code: 'internal' });
    const reader = await harness.client('reader');
    const done = await reader.next('changes', (f) => f.done === true);
    expect(done.docs.map((d) => d.key).sort()).toEqual(['ok0', 'ok1', 'ok2']);
  });

  it("a read waits for the connection's earlier push", async () => {
    await harness.start();
    const c = await harness.client('writer');
    await c.next('welcome');
    c.send({ type: 'push', id: 'p', ack: 'relay', changes: [c.blind('notes', 'k', 1)] });
    c.send({ type: 'read', id: 'r', collection: 'notes', keys: ['k'], consistency: 'leader' });
    const read = await c.next('read-result');
    expect(read.docs[0]?.seq).toBe(1);
  });
});

describe('TLS', () => {
  const dirs: string[] = [];
  const children: RelayProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.child.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('serves wss:// directly with --tls-cert and --tls-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'converge-tls-'));
    dirs.push(dir);
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], {
      stdio: 'ignore',
    });
    const relay = await spawnRelay(['--db', ':memory:', '--tls-cert', cert, '--tls-key', key]);
    children.push(relay);
    const ws = new WebSocket(`wss://127.0.0.1:${relay.port}/`, { rejectUnauthorized: false });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, replicaId: 'tlsClient', subscriptions: [] })));
      ws.once('message', (data) => resolve(data.toString()));
      ws.once('error', reject);
    });
    expect(JSON.parse(first)).toMatchObject({ type: 'welcome' });
    ws.close();
  }, 60_000);
});

describe('the installed CLI', () => {
  it('runs from the built dist through the npm bin link (npx converge-relay)', () => {
    const bin = fileURLToPath(new URL('../../../../node_modules/.bin/converge-relay', import.meta.url));
    const help = execFileSync(bin, ['--help'], { encoding: 'utf8' });
    expect(help).toMatch(/converge-relay — the Converge sync relay/);
  });
});
