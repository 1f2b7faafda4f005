/**
 * @converge/protocol — the wire contract between Converge clients and relays: frames, the
 * codec, validation of untrusted frames. Runs anywhere (browsers included): no Node built-ins.
 *
 * Decoded frames carry document states as conflict's validated `DocState` (values opaque);
 * on the wire they travel in the protocol's compact forms. docs/PROTOCOL.md is the contract.
 */
export { ConvergeError, ERROR_CODES, isErrorCode } from '@converge/conflict';
export type { ErrorCode } from '@converge/conflict';

export { WIRE_ERROR_CODES } from './error-codes.js';

export { PROTOCOL_VERSION, negotiateProtocol } from './version.js';

export { encodeFrame, encodeClientFrame, decodeFrame, decodeClientFrame, decodeRelayFrame, validateFrame } from './codec.js';

export type { Frame, FrameType, FrameOf, ClientFrame, RelayFrame } from './frame.js';

export type { HelloFrame } from './frames/hello.js';
export type { WelcomeFrame, Replication } from './frames/welcome.js';
export type { SubscribeFrame } from './frames/subscribe.js';
export { ACK_LEVELS } from './frames/push.js';
export type { PushFrame, PushedChange, AckLevel } from './frames/push.js';
export { settledDot } from './frames/ack.js';
export type { AckFrame, ChangeResult, ChangeName, AcceptedChange, RejectedChange, RelayAckLevel } from './frames/ack.js';
export type { ConfirmFrame, ConfirmCode } from './frames/confirm.js';
export type { ReadFrame, ReadConsistency } from './frames/read.js';
export type { ReadResultFrame, ReadDoc } from './frames/read-result.js';
export type { ChangesFrame, ChangedDoc, ChangePhase } from './frames/changes.js';
export type { CreditFrame } from './frames/credit.js';
export type { PingFrame, PongFrame } from './frames/heartbeat.js';
export type { ErrorFrame } from './frames/error-frame.js';

export { decodeCursor } from './cursor.js';
export type { Cursor } from './cursor.js';
export type { Subscription, KeyFilter } from './subscription.js';
export { COLLECTION_MODES } from './collection-config.js';
export type { CollectionMode, CollectionDeclaration, CollectionInfo } from './collection-config.js';

export { collectionNameProblem, documentKeyProblem, keyPrefixProblem } from './names.js';

export { DEFAULT_DECODE_LIMITS, MAX_FRAME_DEPTH, MAX_VALUE_DEPTH, RELAY_LIMIT_NAMES } from './limits.js';
export type { DecodeLimits, RelayLimits } from './limits.js';

export { encodeValue, decodeValue, isEncodedValue } from './value-codec.js';
export { decodeWireState, encodeWireState, wireValueProblem } from './wire-state.js';
export type { WireValue, WireState, CrdtValueJson } from './wire-state.js';
export { stateToJson, stateFromJson, storedStateText, parseStoredState } from './state-json.js';
export { ChangesFrameBuilder, changesFrameText } from './changes-frame-text.js';
export type { ChangesEnvelope, StoredChange } from './changes-frame-text.js';

export { jsonShapeProblem } from './json-shape.js';
export { utf8ByteLength } from './utf8-length.js';
