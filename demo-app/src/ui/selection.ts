/** What the conflict inspector shows: one key of one collection, as one device holds it. */
export interface Selection {
  readonly device: string;
  readonly collection: string;
  readonly key: string;
}

export type Inspect = (selection: Selection) => void;

export const sameSelection = (a: Selection | undefined, b: Selection) =>
  a !== undefined && a.device === b.device && a.collection === b.collection && a.key === b.key;
