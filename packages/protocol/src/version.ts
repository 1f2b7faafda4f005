/** The protocol version this package speaks; sent in `hello.protocol` and `welcome.protocol`. */
export const PROTOCOL_VERSION = 3;

/**
 * Every version this package can decode, newest first. Older versions are not among them: no
 * deployed client speaks one, so there is no second decoding path. Protocol 2 (ack results
 * matched by position, one `ack` per push) and protocol 1 (states as `{v, d, s}` with every
 * value wrapped in `{json}`) are refused at `hello`.
 */
export const SUPPORTED_PROTOCOLS: readonly number[] = Object.freeze([PROTOCOL_VERSION]);

/**
 * The version to speak with a peer that offered `offered` (its newest): the newest version
 * both sides speak, or `undefined` when there is none (the relay then answers `error`
 * `bad_message` and closes).
 *
 * @example
 * ```ts
 * negotiateProtocol(3); // → 3
 * // A newer client falls back; an older one gets none.
 * negotiateProtocol(7); // → 3
 * negotiateProtocol(2); // → undefined
 * ```
 */
export function negotiateProtocol(offered: number): number | undefined {
  return SUPPORTED_PROTOCOLS.find((version) => version <= offered);
}

/**
 * Why a peer speaking `offered` cannot be served, or `undefined`. `speaker` names this side in
 * the message ("relay" answering a `hello`, "client" reading a `welcome`).
 *
 * @example
 * ```ts
 * unsupportedProtocolMessage(2, 'relay'); // → 'protocol 2 is not supported: this relay speaks 3'
 * ```
 */
export function unsupportedProtocolMessage(offered: number, speaker: 'relay' | 'client'): string | undefined {
  return negotiateProtocol(offered) === undefined ? `protocol ${offered} is not supported: this ${speaker} speaks ${PROTOCOL_VERSION}` : undefined;
}
