import type { ConvergeError } from '@converge/conflict';
import { decodeFrame, type ClientFrame, type RelayAckLevel } from '@converge/protocol';
import { DEFAULT_LIMITS } from '@converge/sync-server';
import { resolveClientOptions } from '../client-options.js';
import { collectionSpec, type CollectionOptions } from '../collection-spec.js';
import type { DocChange } from '../replica/doc-records.js';
import { LocalReplica } from '../replica/local-replica.js';
import type { RewrittenWrite } from '../replica/rewrite.js';
import { createMemoryStorage } from '../storage/memory-storage.js';
import type { RejectedRecord, StorageAdapter } from '../storage/storage-adapter.js';
import type { SessionContext, SessionEnd, SessionLimits } from '../sync/session-context.js';
import type { ConnectionState, SyncHost } from '../sync/sync-host.js';

/** What a session part reported to its host, in order. */
export interface HostReports {
  readonly committed: DocChange[][];
  readonly acked: [readonly string[], RelayAckLevel][];
  readonly rejected: RejectedRecord[][];
  readonly connection: ConnectionState[];
  readonly positions: Map<string, number>[];
  readonly errors: (ConvergeError | undefined)[];
  readonly rewritten: RewrittenWrite[][];
  readonly replicaChanged: DocChange[][];
}

export interface SessionHarnessOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- collections of any value type
  readonly collections?: Readonly<Record<string, CollectionOptions<any>>>;
  readonly token?: () => string | undefined;
  readonly limits?: Partial<SessionLimits>;
  readonly now?: () => number;
  readonly storage?: StorageAdapter;
}

/**
 * A real replica (memory storage) and a `SessionContext` that records what the session parts
 * send and report: for unit tests of the handshake, subscriptions, push loop and reads without
 * a connection.
 */
export async function sessionHarness(options: SessionHarnessOptions = {}) {
  const resolved = resolveClientOptions({ name: 'session-harness' });
  const now = options.now ?? (() => Date.now());
  const specs = Object.entries(options.collections ?? {}).map(([name, o]) => collectionSpec(name, o));
  const replica = new LocalReplica(options.storage ?? createMemoryStorage(), specs, { now, preWelcomeMaxValueBytes: resolved.sync.preWelcome.maxValueBytes });
  await replica.open();
  const reports: HostReports = { committed: [], acked: [], rejected: [], connection: [], positions: [], errors: [], rewritten: [], replicaChanged: [] };
  const host: SyncHost = {
    replica,
    collections: () => replica.collections(),
    token: async () => options.token?.(),
    committed: (changes) => void reports.committed.push([...changes]),
    acked: (writeIds, level) => void reports.acked.push([writeIds, level]),
    rejected: (records) => void reports.rejected.push([...records]),
    connection: (state) => void reports.connection.push(state),
    positions: (positions) => void reports.positions.push(new Map(positions)),
    error: (error) => void reports.errors.push(error),
    replicaChanged: (changes) => void reports.replicaChanged.push([...changes]),
    rewritten: (writes) => void reports.rewritten.push([...writes]),
    now,
    random: () => 0,
  };
  const sent: ClientFrame[] = [];
  const ends: SessionEnd[] = [];
  let queue: Promise<void> = Promise.resolve();
  const state = { open: true, closed: false, helloId: replica.replicaId, identityReplaced: 0, synced: 0, caughtUp: true };
  const ctx: SessionContext = {
    host,
    options: { connectTimeoutMs: resolved.connectTimeoutMs, readTimeoutMs: resolved.readTimeoutMs, maxChangesPerPush: Infinity, sync: resolved.sync },
    get open() {
      return state.open && !state.closed;
    },
    get closed() {
      return state.closed;
    },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    get helloId() {
      return state.helloId;
    },
    send: (frame) => void sent.push(frame),
    sendText: (text) => {
      const decoded = decodeFrame(text);
      if (!decoded.ok) throw decoded.error;
      sent.push(decoded.value as ClientFrame);
    },
    close: (end) => {
      if (state.closed) return;
      state.closed = true;
      ends.push(end);
    },
    enqueue: (work) => {
      queue = queue.then(work);
    },
    replaceIdentity: async () => {
      state.identityReplaced++;
      state.closed = true;
    },
    updateSynced: () => void state.synced++,
    get caughtUp() {
      return state.caughtUp;
    },
  };
  return {
    replica,
    ctx,
    host,
    reports,
    sent,
    ends,
    state,
    /** Waits for the work enqueued so far (a retry timer's push). */
    settled: () => queue,
    /** Frames sent of one type. */
    frames: <T extends ClientFrame['type']>(type: T) => sent.filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type),
  };
}
