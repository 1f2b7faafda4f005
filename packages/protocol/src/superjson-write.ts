import { RESERVED_NAMES } from '@converge/conflict';

/**
 * superjson's `serialize` (default instance: no registered classes, symbols or custom
 * transformers; no dedupe), reproduced for the writer of a value: the same `{json, meta}` for
 * every value, byte for byte once stringified, so readers built with superjson and readers built
 * with `superjson-read.ts` decode it alike (`superjson-form.property.test.ts` checks both ways
 * against superjson itself). It is here so a client does not bundle superjson's registries.
 */

/** A type name as superjson writes it: `'Date'`, `'map'`, … or `['typed-array', 'Uint8Array']`. */
export type TypeName = string | readonly [string, string];
/** The annotations of a node's children, by escaped path (`a.b`, `0.1`, `a\.b`). */
export interface Annotations {
  [path: string]: Annotation;
}
/** A node's annotation: its type, its type and its children's, or its children's alone. */
export type Annotation = readonly [TypeName] | readonly [TypeName, Annotations] | Annotations;

export interface SuperjsonMeta {
  values?: Annotation;
  referentialEqualities?: Record<string, string[]> | [string[]] | [string[], Record<string, string[]>];
  v?: 1;
}

interface Walked {
  readonly json: unknown;
  readonly annotation?: Annotation | undefined;
}

export const escapeKey = (key: string): string => key.replace(/\\/g, '\\\\').replace(/\./g, '\\.');
const pathText = (path: readonly string[]): string => path.map(escapeKey).join('.');

/** The platform's URL class (lib ES2023 does not declare it). */
const WebUrl = (globalThis as { URL?: new (href: string) => object }).URL;

/** superjson's rules, in its order: the type it names a value by and the JSON it writes for it. */
function transform(value: unknown): [TypeName, unknown] | undefined {
  switch (typeof value) {
    case 'undefined':
      return ['undefined', null];
    case 'bigint':
      return ['bigint', value.toString()];
    case 'number':
      if (!Number.isFinite(value)) return ['number', String(value)]; // NaN, Infinity, -Infinity
      return Object.is(value, -0) ? ['number', '-0'] : undefined;
    case 'object':
      if (ArrayBuffer.isView(value) && !(value instanceof DataView))
        return [['typed-array', value.constructor.name], [...(value as unknown as Iterable<unknown>)]];
      if (value instanceof Date) return Number.isNaN(value.valueOf()) ? undefined : ['Date', value.toISOString()];
      if (value instanceof Error) {
        const error: Record<string, unknown> = { name: value.name, message: value.message };
        if ('cause' in value) error['cause'] = value.cause;
        return ['Error', error];
      }
      if (value instanceof RegExp) return ['regexp', String(value)];
      if (value instanceof Set) return ['set', [...value]];
      if (value instanceof Map) return ['map', [...value]];
      if (WebUrl !== undefined && value instanceof WebUrl) return ['URL', String(value)];
  }
  return undefined;
}

/** Values superjson walks into: plain objects, arrays, Map, Set, Error. */
function isDeep(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || value === Object.prototype) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || Array.isArray(value) || value instanceof Map || value instanceof Set || value instanceof Error;
}

/**
 * `{json, meta?}` as superjson writes it for `value`. What superjson cannot write comes back as
 * it is (a function, a class instance, a symbol) for the caller's JSON check to refuse.
 *
 * @throws Error for a key named `__proto__`, `constructor` or `prototype`, as superjson does
 * (in its own words).
 */
export function writeSuperjson(value: unknown): { json: unknown; meta?: SuperjsonMeta } {
  /** Where each object (and NaN, bigint) was met; more than one path: a shared reference. */
  const identities = new Map<unknown, string[][]>();
  const walked = new Map<unknown, Walked>();
  const ancestors: unknown[] = [];

  const walk = (node: unknown, path: string[]): Walked => {
    const tracked = (typeof node === 'object' && node !== null) || typeof node === 'function' || typeof node === 'bigint' || Number.isNaN(node);
    if (tracked) {
      const paths = identities.get(node);
      if (paths === undefined) identities.set(node, [path]);
      else paths.push(path);
      const before = walked.get(node);
      if (before !== undefined) return before;
    }
    let result: Walked;
    if (!isDeep(node)) {
      const t = transform(node);
      result = t === undefined ? { json: node } : { json: t[1], annotation: [t[0]] };
    } else if (ancestors.includes(node)) {
      return { json: null }; // a cycle: written as null, restored from referentialEqualities
    } else {
      const t = transform(node);
      const json: Record<string, unknown> = Array.isArray(t === undefined ? node : t[1]) ? ([] as unknown as Record<string, unknown>) : {};
      const inner: Annotations = {};
      let annotated = false;
      ancestors.push(node);
      for (const [key, child] of Object.entries(t === undefined ? node : (t[1] as object))) {
        if (RESERVED_NAMES.has(key)) throw new Error(`key '${key}' is reserved`);
        const sub = walk(child, [...path, key]);
        json[key] = sub.json;
        const a = sub.annotation;
        if (a === undefined) continue;
        annotated = true;
        if (Array.isArray(a)) inner[escapeKey(key)] = a;
        else for (const [k, tree] of Object.entries(a)) inner[`${escapeKey(key)}.${k}`] = tree;
      }
      ancestors.pop();
      result = { json, annotation: t === undefined ? (annotated ? inner : undefined) : annotated ? [t[0], inner] : [t[0]] };
    }
    if (tracked) walked.set(node, result);
    return result;
  };

  const root = walk(value, []);
  const meta: SuperjsonMeta = {};
  if (root.annotation !== undefined) meta.values = root.annotation;
  const equalities = referentialEqualities(identities);
  if (equalities !== undefined) meta.referentialEqualities = equalities;
  if (meta.values === undefined && equalities === undefined) return { json: root.json };
  meta.v = 1;
  return { json: root.json, meta };
}

/** Each value met more than once: its shortest path, and the others where it was met again. */
function referentialEqualities(identities: Map<unknown, string[][]>): SuperjsonMeta['referentialEqualities'] {
  const out: Record<string, string[]> = {};
  let shared = false;
  let root: string[] | undefined;
  for (const met of identities.values()) {
    if (met.length <= 1) continue;
    const [first, ...others] = [...met].sort((a, b) => a.length - b.length) as [string[], ...string[][]];
    if (first.length === 0) root = others.map(pathText);
    else {
      out[pathText(first)] = others.map(pathText);
      shared = true;
    }
  }
  if (root !== undefined) return shared ? [root, out] : [root];
  return shared ? out : undefined;
}
