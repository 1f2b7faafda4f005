/** True when two lists name the same writes in the same order (a re-read that changed nothing). */
export const sameWrites = (a: readonly { readonly writeId: string }[], b: readonly { readonly writeId: string }[]): boolean =>
  a.length === b.length && a.every((w, i) => w.writeId === b[i]!.writeId);
