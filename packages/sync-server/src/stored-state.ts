import { ConvergeError, emptyDocState } from '@converge/conflict';
import { decodeWireState, encodeWireState, type WireState } from '@converge/protocol';
import type { StoredDoc } from './store/relay-store.js';

/** A state as the store keeps it: the compact JSON text of the wire form. */
export function serializeState(state: WireState): string {
  return JSON.stringify(encodeWireState(state));
}

/** Reads a stored state back; a state the relay wrote itself and cannot read is store corruption. */
export function parseStored(doc: StoredDoc | undefined): WireState {
  if (doc === undefined) return emptyDocState();
  const decoded = decodeWireState(JSON.parse(doc.state), `stored ${doc.key}`);
  if (!decoded.ok) throw new ConvergeError('internal', `stored state of ${doc.key} is unreadable`, { cause: decoded.error });
  return decoded.value;
}
