import { CRDT_TYPES, type AnyCrdtType, type StrategyName } from '@converge/conflict';
import type { CollectionDeclaration, CollectionMode } from '@converge/protocol';

/** A collection as the relay's configuration declares it: authoritative for mode and strategy. */
export interface CollectionConfig {
  readonly mode: CollectionMode;
  readonly strategy: StrategyName;
}

/** A collection nobody declared: multi-leader, siblings kept. */
export const DEFAULT_COLLECTION: CollectionConfig = Object.freeze({ mode: 'multi-leader', strategy: 'siblings' });

/** The CRDT type of a strategy, or undefined for register strategies (siblings, lww, merge). */
export function crdtTypeOf(strategy: StrategyName): AnyCrdtType | undefined {
  return Object.hasOwn(CRDT_TYPES, strategy) ? CRDT_TYPES[strategy as keyof typeof CRDT_TYPES] : undefined;
}

export class CollectionRegistry {
  private readonly configs = new Map<string, CollectionConfig>();

  constructor(declared: Readonly<Record<string, CollectionDeclaration>> = {}) {
    for (const [name, config] of Object.entries(declared)) {
      this.configs.set(name, { mode: config.mode, strategy: config.strategy });
    }
  }

  get(name: string): CollectionConfig {
    return this.configs.get(name) ?? DEFAULT_COLLECTION;
  }

  declared(): ReadonlyMap<string, CollectionConfig> {
    return this.configs;
  }
}
