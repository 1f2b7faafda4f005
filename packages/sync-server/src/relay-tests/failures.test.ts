import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  override transact<T>(fn: (tx: StoreTx) => T): T {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk on fire');
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
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const relay = await spawnRelay(['--db', ':memory:', '--tls-cert', cert, '--tls-key', key]);
    children.push(relay);
    const ws = new WebSocket(`wss://127.0.0.1:${relay.port}/`, { rejectUnauthorized: false });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, replicaId: 'tlsClient', subscriptions: [] })));
      ws.once('message', (data) => resolve(data.toString()));
      ws.once('error', reject);
    });
    expect(JSON.parse(first)).toMatchObject({ type: 'welcome' });
    ws.close();
  }, 60_000);
});
