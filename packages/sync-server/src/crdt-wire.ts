import { crdtStateFromJson, crdtStateToJson, fail, ok, type AnyCrdtType, type CrdtState, type DocState, type Result } from '@converge/conflict';
import type { CrdtValueJson, WireState } from '@converge/protocol';

/** Decodes the CRDT values of a wire state (plain JSON) into dot-stores, checking their structure. */
export function crdtDocFromWire(type: AnyCrdtType, state: WireState, path: string): Result<DocState<CrdtState<unknown>>> {
  const siblings = [];
  for (const sibling of state.siblings) {
    if (sibling.deleted === true) return fail(path, 'CRDT collections have no tombstones: delete is clear');
    const value = crdtStateFromJson(type, sibling.value, `${path}.value`);
    if (!value.ok) return value;
    siblings.push({ ...sibling, value: value.value });
  }
  return ok({ context: state.context, siblings });
}

export function crdtDocToWire(type: AnyCrdtType, state: DocState<CrdtState<unknown>>): WireState {
  return {
    context: state.context,
    siblings: state.siblings.map((s) => (s.deleted === true ? s : { ...s, value: crdtStateToJson(type, s.value) as CrdtValueJson })),
  };
}
