import { siblingContent, type Sibling } from './doc-state.js';

/**
 * A replica's write chain: a running hash over every write it made, in write-number order,
 * `chain(n) = H(chain(n − 1), write n)`. Two databases that share a replica id and diverged —
 * an older copy restored, or storage lost while the id was kept — have written different
 * writes under the same write numbers, so their chains at those numbers differ. The relay keeps
 * the chain of the highest write number it has seen per replica and names it in `welcome`; a
 * database whose own chain at that number differs went back in time and must take a new id,
 * before it pushes a dot the relay may already hold as another write (see DESIGN "Replica
 * identity loss"). Not a security measure: a replica can only harm its own id with it.
 */
export type WriteChain = string;

/** The chain before the first write. */
export const WRITE_CHAIN_ZERO: WriteChain = '0';

const CHAIN_PATTERN = /^[0-9a-f]{1,32}$/;

/** Why `value` is not a write chain, or undefined. */
export function writeChainProblem(value: unknown): string | undefined {
  return typeof value === 'string' && CHAIN_PATTERN.test(value) ? undefined : 'must be a write chain: 1–32 lowercase hex digits';
}

/** 64 bits of two 32-bit multiply-xorshift lanes over UTF-16 code units (not cryptographic: it only tells diverged histories apart). */
function hash64(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** The chain after a write of `sibling` (the write's dot and content) to `collection`/`key`. */
export function chainWrite(chain: WriteChain, collection: string, key: string, sibling: Sibling<unknown>): WriteChain {
  return hash64(`${chain}\u0000w\u0000${collection}\u0000${key}\u0000${sibling.dot[1]}\u0000${siblingContent(sibling)}`);
}

/** The chain after a write number allocated for something other than a write to one key (a re-push of full states, `what`). */
export function chainMark(chain: WriteChain, what: string): WriteChain {
  return hash64(`${chain}\u0000m\u0000${what}`);
}
