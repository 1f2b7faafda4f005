import { ConvergeError } from '@converge/conflict';
import type { CollectionSpec } from './collection-spec.js';
import type { CrdtOp } from './replica/apply-write.js';

function need(spec: CollectionSpec, allowed: readonly string[], what: string): void {
  if (!allowed.includes(spec.strategy)) {
    throw new ConvergeError('bad_message', `${what} is for ${allowed.join(' or ')} collections; ${spec.name} is ${spec.strategy}`);
  }
}

/** `increment(key, by)` on a counter; `increment(key, item, by = 1)` on a cart. */
export function incrementOp(spec: CollectionSpec, itemOrBy: string | number, by?: number): CrdtOp {
  need(spec, ['counter', 'cart'], 'increment');
  if (spec.strategy === 'counter') {
    if (typeof itemOrBy !== 'number') throw new ConvergeError('bad_message', 'increment(key, by) on a counter takes a number');
    return { type: 'increment', by: itemOrBy };
  }
  if (typeof itemOrBy !== 'string') throw new ConvergeError('bad_message', 'increment(key, item, by) on a cart names the item');
  return { type: 'update', key: itemOrBy, op: { type: 'increment', by: by ?? 1 } };
}

/** `add(key, element)` on an OR-set. */
export function addOp(spec: CollectionSpec, element: unknown): CrdtOp {
  need(spec, ['orSet'], 'add');
  return { type: 'add', element };
}

/** `remove(key, element)` on an OR-set; `remove(key, item)` on a cart or an LWW map. */
export function removeOp(spec: CollectionSpec, elementOrItem: unknown): CrdtOp {
  need(spec, ['orSet', 'cart', 'lwwMap'], 'remove');
  return spec.strategy === 'orSet' ? { type: 'remove', element: elementOrItem } : { type: 'remove', key: elementOrItem };
}

/** `set(key, field, value)` on an LWW map (values are plain JSON). */
export function setOp(spec: CollectionSpec, field: string, value: unknown): CrdtOp {
  need(spec, ['lwwMap'], 'set');
  return { type: 'update', key: field, op: { type: 'set', value } };
}

/** `clear(key)`: the observed-remove delete of any CRDT collection. */
export function clearOp(spec: CollectionSpec): CrdtOp {
  need(spec, ['counter', 'orSet', 'cart', 'lwwMap'], 'clear');
  return { type: 'clear' };
}
