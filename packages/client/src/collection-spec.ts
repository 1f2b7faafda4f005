import { ConvergeError, CRDT_TYPES, type AnyCrdtType, type MergeFn, type StrategyName } from '@converge/conflict';
import { collectionNameProblem, type CollectionDeclaration, type CollectionMode } from '@converge/protocol';

/** An application merge of concurrent values: deterministic and independent of their order. */
export interface MergeStrategy<T = unknown> {
  readonly kind: 'merge';
  readonly merge: MergeFn<T>;
}

/**
 * A collection whose concurrent values are combined by `fn` on read (never written back by
 * itself; the next write covers the siblings).
 *
 * @example
 * ```ts
 * const union = merge<string[]>((values) => [...new Set(values.flat())].sort());
 * union.merge([['a'], ['b', 'a']], { siblings: [] }); // → ['a', 'b']
 * ```
 */
export function merge<T>(fn: MergeFn<T>): MergeStrategy<T> {
  return { kind: 'merge', merge: fn };
}

export type CrdtStrategyName = 'counter' | 'orSet' | 'cart' | 'lwwMap';

export interface CollectionOptions<T = unknown> {
  /** How concurrent values resolve: `siblings` (default), `lww`, `merge(fn)`, or a CRDT type. */
  readonly strategy?: 'siblings' | 'lww' | CrdtStrategyName | MergeStrategy<T>;
  /** `multi-leader` (default) or `leader-follower` (the relay decides; writes are optimistic). */
  readonly mode?: CollectionMode;
  /**
   * Leader-follower: called when the relay refused a write because the key changed under it.
   * Return a value to write it again on top of `current` (a rebase), or undefined to keep the
   * refusal in `client.rejected()`.
   */
  readonly onReject?: (attempted: T | undefined, current: T | undefined) => T | undefined;
}

/** A collection as the client runs it. */
export interface CollectionSpec {
  readonly name: string;
  readonly mode: CollectionMode;
  readonly strategy: StrategyName;
  /** Set for CRDT strategies. */
  readonly crdt: AnyCrdtType | undefined;
  readonly merge: MergeFn<unknown> | undefined;
  readonly onReject: ((attempted: unknown, current: unknown) => unknown) | undefined;
  /** False for a collection the app never declared (multi-leader, `siblings`): not sent in `hello`. */
  readonly declared: boolean;
}

// Options of any value type: T only types the app's callbacks, which the spec stores untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function collectionSpec(name: string, options: CollectionOptions<any> | undefined, declared = options !== undefined): CollectionSpec {
  const problem = collectionNameProblem(name);
  if (problem !== undefined) throw new ConvergeError('bad_message', `collection ${JSON.stringify(name)}: ${problem}`);
  const strategy = options?.strategy ?? 'siblings';
  const strategyName: StrategyName = typeof strategy === 'string' ? strategy : 'merge';
  if (typeof strategy === 'object' && (strategy.kind !== 'merge' || typeof strategy.merge !== 'function')) {
    throw new ConvergeError('bad_message', `collection ${name}: strategy must be a name or merge(fn)`);
  }
  if (typeof strategy === 'string' && !['siblings', 'lww', ...Object.keys(CRDT_TYPES)].includes(strategy)) {
    throw new ConvergeError('bad_message', `collection ${name}: unknown strategy ${JSON.stringify(strategy)}`);
  }
  const mode = options?.mode ?? 'multi-leader';
  if (mode !== 'multi-leader' && mode !== 'leader-follower') throw new ConvergeError('bad_message', `collection ${name}: unknown mode ${JSON.stringify(mode)}`);
  return {
    name,
    mode,
    strategy: strategyName,
    crdt: Object.hasOwn(CRDT_TYPES, strategyName) ? CRDT_TYPES[strategyName as CrdtStrategyName] : undefined,
    merge: typeof strategy === 'object' ? (strategy.merge as unknown as MergeFn<unknown>) : undefined,
    onReject: options?.onReject as CollectionSpec['onReject'],
    declared,
  };
}

/**
 * The spec of a collection the app did not declare, as the relay's `welcome` configures it (the
 * relay is authoritative). A `merge` collection without the app's function reads as `siblings`.
 */
export function adoptedSpec(name: string, info: CollectionDeclaration): CollectionSpec {
  return collectionSpec(name, { mode: info.mode, strategy: info.strategy === 'merge' ? 'siblings' : info.strategy }, false);
}

export function declarationOf(spec: CollectionSpec): CollectionDeclaration {
  return { mode: spec.mode, strategy: spec.strategy };
}
