// The map cases of the crdt-benchmarks suite's B3 ("many conflicts") that a key-value sync engine
// can run: every one of n clients sets the same key of one shared map concurrently, each to its
// own value (B3.1 a number, B3.2 an object, B3.3 a string of its number repeated n times), then
// all sync. The suite runs n = 20·⌊√N⌋ clients, 1,540 at its N = 6,000.

export const CASES = ['number', 'object', 'string'] as const;
export type MapCase = (typeof CASES)[number];

export const CASE_LABELS: Readonly<Record<MapCase, string>> = {
  number: 'B3.1: set a number',
  object: 'B3.2: set an object',
  string: 'B3.3: set a string',
};

/** The value client `i` of `clients` sets. */
export function caseValue(kind: MapCase, i: number, clients: number): unknown {
  switch (kind) {
    case 'number':
      return i;
    case 'object':
      return { name: String(i), address: 'here' };
    case 'string':
      return String(i).repeat(clients);
  }
}

/** The suite's client count at its N: 20·⌊√N⌋. */
export const suiteClients = (n: number) => Math.floor(Math.sqrt(n)) * 20;

/** The map's name (Yjs) / the document key (Converge) and the field every client sets. */
export const MAP_KEY = 'map';
export const FIELD = 'v';
