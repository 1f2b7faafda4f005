import { joinSiblings, type Dot, type DotFun, type Hlc, type RegisterEntry } from '@converge/conflict';
import type { WireState } from '@converge/protocol';
import type { CollectionSpec } from '../collection-spec.js';
import { crdtDoc } from '../values.js';

/** One entry of a CRDT value's dot-store, as `inspect` shows it. */
export interface CrdtEntry {
  /** The write that made the entry. */
  readonly dot: Dot;
  /** The cart item or LWW-map field the entry belongs to (absent for counters and OR-sets). */
  readonly key?: string;
  /** What the entry holds: an amount (counter, cart), an element (OR-set), a field's value (LWW map). */
  readonly value: unknown;
  /** LWW map: the stamp that orders concurrent values of one field (the highest is read). */
  readonly hlc?: Hlc;
  /** The join of the siblings keeps it, so it counts in the value read; false: a sibling that saw its dot dropped it. */
  readonly kept: boolean;
}

type RawEntry = Omit<CrdtEntry, 'kept'>;

/** The entries of one decoded store, by strategy (`counter` and `orSet` hold a dot-fun; `cart` and `lwwMap` one per key). */
function storeEntries(strategy: string, store: unknown): RawEntry[] {
  if (strategy === 'counter' || strategy === 'orSet') return (store as DotFun<unknown>).map((e) => ({ dot: e.dot, value: e.value }));
  const out: RawEntry[] = [];
  for (const [key, fun] of store as ReadonlyMap<string, DotFun<unknown>>) {
    for (const e of fun) {
      if (strategy === 'lwwMap') {
        const { hlc, value } = e.value as RegisterEntry;
        out.push({ dot: e.dot, key, value, hlc });
      } else {
        out.push({ dot: e.dot, key, value: e.value });
      }
    }
  }
  return out;
}

const entryId = (e: RawEntry) => `${e.key ?? ''}\u0000${e.dot[0]}:${e.dot[1]}`;

/**
 * The typed entries of each sibling of a CRDT document (undefined for a tombstone), each
 * marked with whether the join of all siblings — the value the app reads — keeps it.
 */
export function crdtEntries(spec: CollectionSpec, state: WireState): (CrdtEntry[] | undefined)[] {
  const type = spec.crdt!;
  const doc = crdtDoc(type, state);
  const kept = new Set(storeEntries(spec.strategy, joinSiblings(type, doc).store).map(entryId));
  return doc.siblings.map((s) =>
    s.deleted === true ? undefined : storeEntries(spec.strategy, s.value.store).map((e) => ({ ...e, kept: kept.has(entryId(e)) })),
  );
}
