// Automerge-repo in the peer benchmark (only with `--automerge`: it is slow): each replica a
// Repo without storage, one document holding a map of records, synced through
// automerge-repo-network-websocket to a storage-less Repo as the relay (relay.mjs).
import { fileURLToPath } from 'node:url';
import type { PeerDriver, W1CatchUp, W2Outcome } from '../driver.js';
import { loadPeer } from '../load-peer.js';
import { spawnRelayScript } from '../relay-child.js';
import { startMeasure } from '../measure.js';
import { recordKey, recordValue, touch, w2Key, w2Value, type W1Workload, type W2Workload } from '../workload.js';

// The members of automerge, automerge-repo and its WebSocket adapter the driver uses.
interface Records {
  records: Record<string, unknown>;
}
interface Handle {
  readonly url: string;
  readonly documentId: string;
  doc(): Records;
  change(f: (doc: Records) => void): void;
  heads(): readonly string[];
  on(event: 'change', f: () => void): void;
}
interface Repo {
  create(initial: Records): Handle;
  find(url: string): Promise<Handle>;
  import(binary: Uint8Array, args: { docId: string }): Handle;
  networkSubsystem: { addNetworkAdapter(adapter: unknown): void };
  shutdown(): Promise<void>;
}
interface RepoModule {
  Repo: new (config: { network: unknown[] }) => Repo;
}
interface NetworkModule {
  WebSocketClientAdapter: new (url: string) => unknown;
}
interface Automerge {
  save(doc: Records): Uint8Array;
  getConflicts(doc: unknown, key: string): Record<string, unknown> | undefined;
}

async function load() {
  const { Repo } = await loadPeer<RepoModule>('@automerge/automerge-repo');
  const { WebSocketClientAdapter } = await loadPeer<NetworkModule>('@automerge/automerge-repo-network-websocket');
  const automerge = await loadPeer<Automerge>('@automerge/automerge');
  return { Repo, WebSocketClientAdapter, automerge };
}

/** Resolves once `handle`'s document holds `size` records. */
function recordCount(handle: Handle, size: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => Object.keys(handle.doc().records).length >= size && resolve();
    handle.on('change', check);
    check();
  });
}

async function write(url: string, { records }: W1Workload): Promise<string> {
  const { Repo, WebSocketClientAdapter } = await load();
  const repo = new Repo({ network: [new WebSocketClientAdapter(url)] });
  const handle = repo.create({ records: {} });
  // One change per record, as an app writing records one by one (each carries its own change metadata).
  for (let i = 1; i <= records; i++) handle.change((doc) => (doc.records[recordKey(i)] = recordValue(i)));
  // No acknowledgement in the protocol: a second repo reads until the relay serves everything.
  const checker = new Repo({ network: [new WebSocketClientAdapter(url)] });
  for (let tries = 0; ; tries++) {
    try {
      await recordCount(await checker.find(handle.url), records);
      break;
    } catch (error) {
      if (tries === 400) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50)); // unavailable until A's first sync reached the relay
    }
  }
  await Promise.all([repo.shutdown(), checker.shutdown()]);
  return handle.url;
}

async function catchUp(url: string, { records }: W1Workload, found?: string): Promise<W1CatchUp> {
  if (found === undefined) throw new Error('automerge: B needs the document URL A wrote');
  const { Repo, WebSocketClientAdapter } = await load();
  const measure = await startMeasure();
  const repo = new Repo({ network: [new WebSocketClientAdapter(url)] });
  const handle = await repo.find(found);
  const doc = handle.doc();
  let readable = 0;
  let checksum = 0;
  for (let i = 1; i <= records; i++) {
    const value = doc.records[recordKey(i)];
    if (value === undefined) continue;
    readable++;
    checksum += touch(value);
  }
  const measured = await measure.stop();
  await repo.shutdown();
  return { ...measured, readable, checksum };
}

async function w2(url: string, { updates, keys }: W2Workload): Promise<W2Outcome> {
  const { Repo, WebSocketClientAdapter, automerge } = await load();
  // Both replicas start from one document (created by the first, copied to the second), then edit offline.
  const repos = [new Repo({ network: [] }), new Repo({ network: [] })] as const;
  const first = repos[0].create({ records: {} });
  const handles = [first, repos[1].import(automerge.save(first.doc()), { docId: first.documentId })] as const;
  handles.forEach((handle, r) => {
    for (let u = 0; u < updates; u++) handle.change((doc) => (doc.records[w2Key(u % keys)] = w2Value(r, u)));
  });
  const measure = await startMeasure();
  const same = () => handles[0].heads().join() === handles[1].heads().join();
  const converged = new Promise<void>((resolve) => {
    for (const handle of handles) handle.on('change', () => same() && resolve());
  });
  for (const repo of repos) repo.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(url));
  await converged;
  const { ms, bytes: wire } = await measure.stop();
  // A map key written concurrently keeps every concurrent value (getConflicts); reads show one.
  const records = handles[0].doc().records;
  let kept = 0;
  for (const key of Object.keys(records)) kept += Object.keys(automerge.getConflicts(records, key) ?? { one: true }).length;
  await Promise.all(repos.map((repo) => repo.shutdown()));
  return { ms, bytes: wire, kept, keys: Object.keys(records).length };
}

export const automergeRepo: PeerDriver = {
  name: 'automerge',
  label: 'Automerge-repo 2.5 (network-websocket, no storage)',
  startRelay: () => spawnRelayScript(fileURLToPath(new URL('./relay.mjs', import.meta.url)), (port) => `ws://127.0.0.1:${port}`),
  w1: { write, catchUp },
  w2,
};
