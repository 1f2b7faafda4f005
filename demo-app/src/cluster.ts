import type { Dot } from '@converge/client';
import type { KeyValue } from './edit-log.js';

/**
 * `npm start -- --cluster`: the page asks the start script's control (on relay A's port, through
 * the dev server's proxy) what runs — PostgreSQL nodes and two relays — and each device talks to
 * one of the relays. Without --cluster there is no control, and the page is the SQLite demo.
 */
export interface ClusterNode {
  readonly name: string;
  readonly port: number;
  readonly role: 'primary' | 'standby' | 'down';
}

export interface ClusterRelay {
  readonly name: string;
  /** Where the page reaches it on its own origin (`/sync`, `/sync-b`). */
  readonly path: string;
}

/** A "kill primary" as the control answered it. */
export interface Failover {
  readonly killed: string;
  readonly promoted: string;
  /** From the SIGKILL until the promoted standby accepted writes. */
  readonly promotedMs: number;
  /** From the SIGKILL until both relays had written on the new primary. */
  readonly writableMs: number;
  /** The old primary is back, as a standby of the new one (`all` needs every named standby). */
  readonly rejoined: boolean;
}

export interface ClusterState {
  /** Names this cluster (its directory): the page keeps each cluster's devices apart. */
  readonly id: string;
  readonly nodes: readonly ClusterNode[];
  readonly relays: readonly ClusterRelay[];
  readonly failovers: readonly Failover[];
  readonly busy: boolean;
}

/** A write as the control checks it: its key and dot. */
export interface DottedWrite {
  readonly collection: string;
  readonly key: string;
  readonly dot: Dot;
}

/** What checking writes on the primary found. */
export interface CheckResult {
  readonly checked: number;
  readonly lost: readonly DottedWrite[];
  readonly primary: string;
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

async function answer<T>(response: Response): Promise<T> {
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

/** The cluster the page runs against, or undefined without --cluster (no control: the dev server answers with its page, or 404). */
export async function clusterState(fetchFn: Fetch = fetch): Promise<ClusterState | undefined> {
  try {
    const response = await fetchFn('/cluster/state', { cache: 'no-store' });
    if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('application/json')) return undefined;
    const state = (await response.json()) as ClusterState;
    return Array.isArray(state.nodes) && Array.isArray(state.relays) && state.relays.length > 0 ? state : undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILLs the primary; resolves once a standby was promoted and both relays write again. */
export async function killPrimary(fetchFn: Fetch = fetch): Promise<Failover> {
  return answer<Failover>(await fetchFn('/cluster/kill-primary', { method: 'POST' }));
}

/** Asks relay `relay`'s store (on the current primary) which of `writes` it holds. */
export async function checkWrites(relay: string, writes: readonly DottedWrite[], fetchFn: Fetch = fetch): Promise<CheckResult> {
  const response = await fetchFn('/cluster/verify', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ relay, writes }),
  });
  return answer<CheckResult>(response);
}

/** The relay a device uses: the page's devices take turns (phone A, laptop B, tablet A); a `?device=NAME` window picks one by its name. */
export function relayFor(name: string, index: number, single: boolean, relays: readonly ClusterRelay[]): ClusterRelay {
  if (!single) return relays[index % relays.length]!;
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return relays[hash % relays.length]!;
}

/** The page's storage under a prefix of its own, so the cluster's devices (another database each start) do not list the SQLite demo's writes. */
export function prefixedKv(kv: KeyValue, prefix: string): KeyValue {
  return { getItem: (key) => kv.getItem(prefix + key), setItem: (key, value) => kv.setItem(prefix + key, value) };
}
