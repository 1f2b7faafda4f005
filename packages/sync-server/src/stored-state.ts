import { ConvergeError, emptyDocState } from '@converge/conflict';
import { decodeWireState, parseStoredState, storedStateText, type WireState, type WireValue } from '@converge/protocol';
import type { StoredDoc } from './store/relay-store.js';

/**
 * A state as the store keeps it: protocol 2's stored text (`storedStateText`), validated once
 * at ingest, from which catch-up and live frames are built without parsing it again.
 */
export function serializeState(state: WireState): string {
  return storedStateText(state);
}

/** Protocol 1's form (`{"v":…,"s":…}`), which relays wrote before protocol 2; read, never written. */
function isProtocol1Text(text: string): boolean {
  return text.startsWith('{') && !text.startsWith('{"r":');
}

/** What a key the relay never stored holds (shared: states are never mutated). */
const NOTHING_STORED: WireState = Object.freeze(emptyDocState<WireValue>());

/** Reads a stored state back; a state the relay wrote itself and cannot read is store corruption. */
export function parseStored(doc: StoredDoc | undefined): WireState {
  if (doc === undefined) return NOTHING_STORED;
  const decoded = isProtocol1Text(doc.state) ? decodeWireState(JSON.parse(doc.state), `stored ${doc.key}`) : parseStoredState(doc.state, `stored ${doc.key}`);
  if (!decoded.ok) throw new ConvergeError('internal', `stored state of ${doc.key} is unreadable`, { cause: decoded.error });
  return decoded.value;
}

/** The stored text in protocol 2's form, what `ChangesFrameBuilder.addStored` takes (a protocol 1 text is converted). */
export function storedText(doc: StoredDoc): string {
  return isProtocol1Text(doc.state) ? serializeState(parseStored(doc)) : doc.state;
}
