import { RESERVED_NAMES } from '@converge/conflict';

/**
 * superjson's `deserialize` (default instance), reproduced for a reader of values: it applies
 * `meta` to `json` as superjson does, step by step (value annotations innermost first, then
 * shared and circular references), so a value written by superjson or by `superjson-write.ts`
 * reads back the same (`superjson-form.property.test.ts` checks it against superjson itself).
 * Registered classes, symbols and custom transformers have no registry here, as in superjson's
 * default instance: they are refused.
 */

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- meta is untrusted JSON walked as superjson walks it

const TYPED_ARRAYS: ReadonlyMap<unknown, new (items: Iterable<number>) => unknown> = new Map(
  [Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, Uint8ClampedArray].map((c) => [c.name, c]),
);

const fail = (message: string): never => {
  throw new Error(message);
};

/** A path written by `escapeKey` and joined with dots, as segments; `legacy`: meta before `v: 1` (no `\\` escape). */
function parsePath(text: string, legacy: boolean): string[] {
  const out: string[] = [];
  let segment = '';
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char === '\\') {
      const next = text.charAt(i + 1);
      if (next === '.' || (!legacy && next === '\\')) {
        segment += next;
        i++;
        continue;
      }
      if (!legacy) fail('invalid path');
    }
    if (char === '.') {
      out.push(segment);
      segment = '';
    } else segment += char;
  }
  out.push(segment);
  return out;
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || value === Object.prototype) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/** The `n`th key of a Set or Map in insertion order. */
function nthKey(collection: Set<unknown> | Map<unknown, unknown>, n: number): unknown {
  if (n > collection.size) fail('index out of bounds');
  const keys = collection.keys();
  for (; n > 0; n--) keys.next();
  return keys.next().value;
}

function checkPath(path: readonly string[]): void {
  for (const segment of path) if (RESERVED_NAMES.has(segment)) fail(`${segment} is not allowed as a property`);
}

/** One step down from `parent`, as superjson's `getDeep` takes it (a Map takes two: row, then key 0 or value 1). */
function getDeep(object: Any, path: readonly string[]): unknown {
  checkPath(path);
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    if (object instanceof Set) object = nthKey(object, +key);
    else if (object instanceof Map) {
      const row = nthKey(object, +key);
      object = +path[++i]! === 0 ? row : object.get(row);
    } else object = object[key];
  }
  return object;
}

/** Replaces the node at `path` with `map(node)`, as superjson's `setDeep` does; returns the (new) root. */
function setDeep(object: Any, path: readonly string[], map: (node: unknown) => unknown): unknown {
  checkPath(path);
  if (path.length === 0) return map(object);
  let parent: Any = object;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (Array.isArray(parent)) parent = parent[+key];
    else if (isPlainObject(parent)) parent = parent[key];
    else if (parent instanceof Set) parent = nthKey(parent, +key);
    else if (parent instanceof Map) {
      if (i === path.length - 2) break;
      const row = nthKey(parent, +key);
      parent = +path[++i]! === 0 ? row : parent.get(row);
    }
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent[+last] = map(parent[+last]);
  else if (isPlainObject(parent)) parent[last] = map(parent[last]);
  else if (parent instanceof Set) {
    const before = nthKey(parent, +last);
    const after = map(before);
    if (after !== before) {
      parent.delete(before);
      parent.add(after);
    }
  } else if (parent instanceof Map) {
    const row = nthKey(parent, +path[path.length - 2]!);
    if (+last === 0) {
      const key = map(row);
      parent.set(key, parent.get(row));
      if (key !== row) parent.delete(row);
    } else parent.set(row, map(parent.get(row)));
  }
  return object;
}

/** A node back from the JSON superjson wrote for a value of type `type`. */
function untransform(json: Any, type: unknown): unknown {
  if (Array.isArray(type)) {
    const Typed = type[0] === 'typed-array' ? TYPED_ARRAYS.get(type[1]) : undefined;
    return Typed === undefined ? fail(`Unknown transformation: ${String(type)}`) : new Typed(json);
  }
  switch (type) {
    case 'undefined':
      return undefined;
    case 'bigint':
      return BigInt(json);
    case 'Date':
      return new Date(json);
    case 'Error': {
      const error = new Error(json.message, { cause: json.cause });
      error.name = json.name;
      error.stack = json.stack;
      return error;
    }
    case 'regexp': {
      const end = json.lastIndexOf('/');
      return new RegExp(json.slice(1, end), json.slice(end + 1));
    }
    case 'set':
      return new Set(json);
    case 'map':
      return new Map(json);
    case 'number':
      return Number(json);
    case 'URL':
      return new (globalThis as unknown as { URL: new (href: string) => object }).URL(json);
    default:
      return fail(`Unknown transformation: ${String(type)}`);
  }
}

/** Calls `visit(type, path)` for each annotation of the tree, children before their parent. */
function traverse(tree: Any, origin: readonly string[], legacy: boolean, visit: (type: unknown, path: readonly string[]) => void): void {
  if (!tree) return;
  if (typeof tree === 'string') fail('invalid annotation'); // superjson recurses into its characters forever
  const below = (children: Any) => {
    for (const [key, child] of Object.entries(children)) traverse(child, [...origin, ...parsePath(key, legacy)], legacy, visit);
  };
  if (!Array.isArray(tree)) return below(tree);
  if (tree[1]) below(tree[1]);
  visit(tree[0], origin);
}

/**
 * `json` (a fresh copy: it is changed in place) with `meta` applied, as superjson's `deserialize`
 * returns it.
 *
 * @throws Error when `meta` cannot be applied (an unknown type, a path that leads nowhere), as
 * superjson does.
 */
export function readSuperjson(json: unknown, meta: Readonly<Record<string, unknown>>): unknown {
  const legacy = ((meta['v'] ?? 0) as number) < 1;
  const path = (text: Any) => parsePath(text, legacy);
  let root = json;
  traverse(meta['values'], [], legacy, (type, at) => {
    root = setDeep(root, at, (node) => untransform(node, type));
  });
  const equalities: Any = meta['referentialEqualities'];
  if (!equalities) return root;
  const link = (others: Any, at: string) => {
    const target = getDeep(root, path(at));
    for (const other of (others as string[]).map(path)) root = setDeep(root, other, () => target);
  };
  const links = Array.isArray(equalities) ? equalities[1] : equalities;
  if (Array.isArray(equalities)) for (const at of (equalities[0] as string[]).map(path)) root = setDeep(root, at, () => root);
  if (links) for (const [at, others] of Object.entries(links)) link(others, at);
  return root;
}
