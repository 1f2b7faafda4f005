/**
 * The error codes shared by every Converge package and carried on the wire.
 * docs/ERRORS.md lists each with its meaning and remedy.
 */
export const ERROR_CODES = [
  'bad_message',
  'payload_too_large',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'clock_skew',
  'conflict_rejected',
  'not_leader',
  'stale_epoch',
  'behind',
  'replica_reset',
  'too_many_siblings',
  'quorum_unavailable',
  'ack_timeout',
  'storage_quota',
  'storage_unavailable',
  'offline',
  'closed',
  'timeout',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const codeSet: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && codeSet.has(value);
}

export interface ConvergeErrorOptions {
  readonly cause?: unknown;
  /** Where in an untrusted input the problem is, e.g. `siblings[2].dot[1]`. */
  readonly path?: string;
}

/**
 * The one error type of Converge. Branch on `code`, never on `message`.
 *
 * @example
 * ```ts
 * const err = new ConvergeError('bad_message', 'counter is not a safe integer', { path: 'vv.A' });
 * err.code; // → 'bad_message'
 * err instanceof Error; // → true
 * ```
 */
export class ConvergeError extends Error {
  override readonly name: string = 'ConvergeError';
  readonly code: ErrorCode;
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, options: ConvergeErrorOptions = {}) {
    super(options.path === undefined ? message : `${options.path}: ${message}`, { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }
}

/** A write whose requested acknowledgement level was not reached in time; the write stays queued. */
export class AckTimeoutError extends ConvergeError {
  override readonly name = 'AckTimeoutError';
  /** The highest level the write did reach, e.g. `'local'`. */
  readonly reached: string;

  constructor(wanted: string, reached: string, options: ConvergeErrorOptions = {}) {
    super('ack_timeout', `write not acknowledged at level '${wanted}' in time (reached '${reached}')`, options);
    this.reached = reached;
  }
}

/**
 * A write whose requested acknowledgement level the relay's store cannot provide (no
 * synchronous standby for `quorum`, not every configured standby streaming for `all`): the
 * write is held at `reached` (it is not retried for the level it asked for).
 */
export class QuorumUnavailableError extends ConvergeError {
  override readonly name = 'QuorumUnavailableError';
  /** The level the write asked for. */
  readonly wanted: string;
  /** The highest level the write did reach, e.g. `'relay'`. */
  readonly reached: string;

  constructor(wanted: string, reached: string, options: ConvergeErrorOptions = {}) {
    super('quorum_unavailable', `the relay cannot confirm level '${wanted}': no such database replicas (reached '${reached}')`, options);
    this.wanted = wanted;
    this.reached = reached;
  }
}

/** The outcome of checking untrusted input: the value, or why it was refused. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ConvergeError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(path: string, message: string): Result<T> {
  return { ok: false, error: new ConvergeError('bad_message', message, { path }) };
}
