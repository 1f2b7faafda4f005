import { isErrorCode, type ConvergeError, type ErrorCode } from '@converge/conflict';
import type { AckLevel } from '@converge/protocol';
import { ACK_LEVELS } from '../ack-levels.js';
import type { RejectedEvent } from '../client-events.js';
import type { ClientStatus } from '../live-status.js';
import type { ConnectionState } from '../sync/sync-host.js';

/**
 * The version of the messages tabs send each other. Two builds of an app run side by side after
 * a deploy (an old tab not reloaded yet): a tab reads only messages of its own version and
 * refuses the others instead of misreading them. Bump it whenever a message changes.
 */
export const TAB_PROTOCOL = 1;

/** An error as it crosses between tabs. */
export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
}

/** What tabs of one database tell each other over BroadcastChannel (docs/CLIENT.md, "Multi-tab protocol"). */
export type TabMessage =
  /** A tab committed changes to these keys (`outbox`: it wrote, so the leader has something to push). */
  | { readonly type: 'changed'; readonly collection: string; readonly keys: readonly string[]; readonly outbox: boolean }
  /** Leader → all: the relay now holds these writes at `level` (`unavailable`: it cannot confirm a higher one). */
  | { readonly type: 'acked'; readonly writeIds: readonly string[]; readonly level: AckLevel; readonly unavailable?: true }
  /** Leader → all: the relay refused these writes for good (in the rejected list, or rebased by the leader's `onReject`). */
  | { readonly type: 'rejected'; readonly writes: readonly RejectedEvent[] }
  /** Leader → all: the connection's state (sent on every change and when a tab asks). */
  | {
      readonly type: 'status';
      readonly connection: ConnectionState;
      readonly positions: Readonly<Record<string, number>>;
      readonly error: ErrorInfo | undefined;
    }
  /** Follower → leader: please send your status. */
  | { readonly type: 'status?' }
  /** Follower → leader: read these keys from the relay (`get(key, { consistency: 'leader' })`). */
  | { readonly type: 'read'; readonly id: string; readonly collection: string; readonly keys: readonly string[] }
  /** Leader → follower: the read is merged into storage (or failed). */
  | { readonly type: 'read-done'; readonly id: string; readonly error: ErrorInfo | undefined }
  /** Follower → leader: this tab started using a collection the app did not declare; follow it too. */
  | { readonly type: 'collection'; readonly name: string }
  /** The replica id changed (identity loss). */
  | { readonly type: 'replica' }
  /** A tab is deleting the database (`destroy()`): every tab closes its client. */
  | { readonly type: 'destroyed' };

/** What travels on the channel: the message with the sender's `TAB_PROTOCOL`. */
export type TabEnvelope = TabMessage & { readonly v: number };

/** What a tab makes of data heard on the channel. */
export type Heard =
  { readonly ok: true; readonly message: TabMessage } | { readonly ok: false; readonly version: number | undefined; readonly problem: string };

export const errorInfo = (error: ConvergeError | undefined): ErrorInfo | undefined =>
  error === undefined ? undefined : { code: error.code, message: error.message };

/** The leader's status as it tells the other tabs. */
export const statusMessage = (s: ClientStatus): TabMessage => ({ type: 'status', connection: s.connection, positions: s.positions, error: errorInfo(s.error) });

type Fields = Record<string, unknown>;
const isString = (v: unknown): v is string => typeof v === 'string';
const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every(isString);
const isErrorInfo = (v: unknown): boolean =>
  v === undefined || (typeof v === 'object' && v !== null && isErrorCode((v as Fields)['code']) && isString((v as Fields)['message']));
const CONNECTIONS: readonly unknown[] = ['offline', 'connecting', 'syncing', 'synced'];
const isPositions = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0);
const isRefusal = (v: unknown): boolean => {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Fields;
  return (
    isString(w['writeId']) &&
    isString(w['collection']) &&
    isString(w['key']) &&
    isErrorCode(w['code']) &&
    isString(w['message']) &&
    typeof w['rebased'] === 'boolean'
  );
};

/** Each message type's fields, checked. */
const SHAPES: Readonly<Record<TabMessage['type'], (m: Fields) => boolean>> = {
  changed: (m) => isString(m['collection']) && isStrings(m['keys']) && typeof m['outbox'] === 'boolean',
  acked: (m) =>
    isStrings(m['writeIds']) && (ACK_LEVELS as readonly unknown[]).includes(m['level']) && (m['unavailable'] === undefined || m['unavailable'] === true),
  rejected: (m) => Array.isArray(m['writes']) && m['writes'].every(isRefusal),
  status: (m) => CONNECTIONS.includes(m['connection']) && isPositions(m['positions']) && isErrorInfo(m['error']),
  'status?': () => true,
  read: (m) => isString(m['id']) && isString(m['collection']) && isStrings(m['keys']),
  'read-done': (m) => isString(m['id']) && isErrorInfo(m['error']),
  collection: (m) => isString(m['name']),
  replica: () => true,
  destroyed: () => true,
};

/** Wraps a message for the channel. */
export function envelope(message: TabMessage): TabEnvelope {
  return { ...message, v: TAB_PROTOCOL };
}

/**
 * Validates data heard on the channel, like a frame from the wire: a message of this tab's
 * `TAB_PROTOCOL` with every field of its type, or why not (another version: another build).
 */
export function readTabMessage(data: unknown): Heard {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, version: undefined, problem: 'not an object' };
  const fields = data as Fields;
  const v = fields['v'];
  const version = typeof v === 'number' ? v : undefined;
  if (version !== TAB_PROTOCOL) return { ok: false, version, problem: `tab protocol ${version ?? '(none)'}; this tab speaks ${TAB_PROTOCOL}` };
  const type = fields['type'];
  const shape = typeof type === 'string' && Object.hasOwn(SHAPES, type) ? SHAPES[type as TabMessage['type']] : undefined;
  if (shape === undefined) return { ok: false, version, problem: `unknown message type ${JSON.stringify(type)}` };
  if (!shape(fields)) return { ok: false, version, problem: `a ${type as string} message with missing or mistyped fields` };
  const { v: _v, ...message } = fields;
  return { ok: true, message: message as unknown as TabMessage };
}
