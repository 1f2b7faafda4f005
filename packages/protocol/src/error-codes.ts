import { ERROR_CODES, type ErrorCode } from '@converge/conflict';

/**
 * Codes a client raises for conditions on its own side, which no relay sends: a level not
 * reached in time (`ack_timeout`), no usable storage (`storage_unavailable`), no connection to
 * the relay (`offline`), a closed client or storage (`closed`), no answer in time (`timeout`).
 */
export const LOCAL_ERROR_CODES = ['ack_timeout', 'storage_unavailable', 'offline', 'closed', 'timeout'] as const satisfies readonly ErrorCode[];

const local: ReadonlySet<string> = new Set(LOCAL_ERROR_CODES);

/** The codes an `error` frame or a rejected `ack` result may carry: every code but the local ones. */
export const WIRE_ERROR_CODES: readonly ErrorCode[] = Object.freeze(ERROR_CODES.filter((code) => !local.has(code)));
