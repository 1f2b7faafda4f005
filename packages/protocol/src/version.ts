/** The protocol version this package speaks; sent in `hello.protocol` and `welcome.protocol`. */
export const PROTOCOL_VERSION = 1;

/** Every version this package can decode, newest first. */
export const SUPPORTED_PROTOCOLS: readonly number[] = Object.freeze([PROTOCOL_VERSION]);

/**
 * The version to speak with a peer that offered `offered` (its newest): the newest version
 * both sides speak, or `undefined` when there is none (the relay then answers `error`
 * `bad_message` and closes).
 *
 * @example
 * ```ts
 * negotiateProtocol(1); // 1
 * negotiateProtocol(7); // 1: a newer client falls back
 * negotiateProtocol(0); // undefined
 * ```
 */
export function negotiateProtocol(offered: number): number | undefined {
  return SUPPORTED_PROTOCOLS.find((version) => version <= offered);
}
