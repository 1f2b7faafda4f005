import type { CollectionDeclaration } from '@converge/protocol';
import { adoptedSpec, collectionSpec, type CollectionSpec } from '../collection-spec.js';

/** Follows the relay's configuration (`infos`) in `specs` for the collections the app did not declare. */
export function adoptCollections(specs: Map<string, CollectionSpec>, infos: Readonly<Record<string, CollectionDeclaration>>): void {
  for (const [name, info] of Object.entries(infos)) {
    const current = specs.get(name);
    if (current?.declared === true) continue;
    if (current !== undefined && current.mode === info.mode && current.strategy === (info.strategy === 'merge' ? 'siblings' : info.strategy)) continue;
    specs.set(name, adoptedSpec(name, info));
  }
}

/**
 * How an import writes each collection: as the app declared it, else as the exporter ran it
 * (`exported`), else as `specs` has it or as an undeclared collection (`specs` is left as it is).
 */
export function specForImport(
  specs: ReadonlyMap<string, CollectionSpec>,
  exported: Readonly<Record<string, CollectionDeclaration>>,
): (collection: string) => CollectionSpec {
  return (name) => {
    const own = specs.get(name);
    const theirs = exported[name];
    return own?.declared !== true && theirs !== undefined ? adoptedSpec(name, theirs) : (own ?? collectionSpec(name, undefined));
  };
}
