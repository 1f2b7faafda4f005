import { RESERVED_NAMES } from '@converge/conflict';

/** Plain JSON data, as `JSON.parse` returns it. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface ShapeProblem {
  readonly path: string;
  readonly message: string;
}

interface Found {
  readonly segments: (string | number)[];
  readonly message: string;
}

const found = (message: string): Found => ({ segments: [], message });

function leafProblem(value: unknown): Found | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      // Neither survives JSON text unchanged: 1e400 parses to Infinity and stringifies to
      // null, -0 stringifies to 0. Carried opaque, either would change content under its dot.
      if (!Number.isFinite(value)) return found('number must be finite');
      return value === 0 && 1 / value < 0 ? found('number must not be -0') : undefined;
    case 'object':
      return value === null ? undefined : found('object where a leaf was expected');
    default:
      return found(`a ${typeof value} is not JSON data`);
  }
}

/** Checks one child: strings and booleans (the common leaves) cost a typeof each. */
function child(value: unknown, depth: number, maxDepth: number): Found | undefined {
  const kind = typeof value;
  if (kind === 'string' || kind === 'boolean') return undefined;
  return kind === 'object' && value !== null ? walk(value as object, depth + 1, maxDepth) : leafProblem(value);
}

/** Set by `jsonShapeProblem(…, freeze)`: each object and array that passes is frozen once its children are. */
let freezing = false;

function walk(node: object, depth: number, maxDepth: number): Found | undefined {
  if (depth > maxDepth) return found(`nested deeper than ${maxDepth} levels`);
  // Frozen here means checked, all the way down.
  if (freezing && Object.isFrozen(node)) return undefined;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const value: unknown = node[i];
      // The common leaves checked here, without a call (a fresh process runs this unoptimized).
      if (typeof value === 'string' || (typeof value === 'number' && value - value === 0 && value !== 0)) continue;
      const problem = child(value, depth, maxDepth);
      if (problem !== undefined) {
        problem.segments.push(i);
        return problem;
      }
    }
  } else {
    const proto: unknown = Object.getPrototypeOf(node);
    if (proto !== Object.prototype && proto !== null) return found('only plain objects and arrays are JSON data');
    for (const key in node) {
      if (RESERVED_NAMES.has(key)) {
        const problem = found(`key '${key}' is reserved`);
        problem.segments.push(key);
        return problem;
      }
      const value: unknown = (node as Record<string, unknown>)[key];
      if (typeof value === 'string' || (typeof value === 'number' && value - value === 0 && value !== 0)) continue;
      const problem = child(value, depth, maxDepth);
      if (problem !== undefined) {
        problem.segments.push(key);
        return problem;
      }
    }
  }
  if (freezing) Object.freeze(node);
  return undefined;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatPath(root: string, segments: readonly (string | number)[]): string {
  let path = root;
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i]!;
    if (typeof segment === 'number') path += `[${segment}]`;
    else path += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/**
 * Why `value` is not plain JSON data that may cross the wire, or `undefined`. Refused:
 * nesting deeper than `maxDepth` (the outermost object or array is level 1), keys named
 * `__proto__`, `constructor` or `prototype`, numbers that are not finite or are -0, anything
 * but null, booleans, strings, numbers, arrays and plain objects. One pass, bounded recursion
 * (so a hostile depth cannot overflow the stack), no allocation unless a problem is found.
 * With `freeze`, each object and array is frozen in place once it and its children passed
 * (children first), and one found frozen is taken as checked: a reader that hands out stored
 * JSON checks and freezes it on first read, and pays one `isFrozen` on every read after.
 */
export function jsonShapeProblem(value: unknown, maxDepth: number, root: string, freeze = false): ShapeProblem | undefined {
  freezing = freeze;
  const problem = typeof value === 'object' && value !== null ? walk(value, 1, maxDepth) : leafProblem(value);
  freezing = false;
  return problem === undefined ? undefined : { path: formatPath(root, problem.segments), message: problem.message };
}

/**
 * Does `value` nest arrays and objects deeper than `maxDepth` (the value itself is level 1)?
 * Visits only arrays and objects, and stops one level past the limit.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (maxDepth <= 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (nestsDeeperThan(value[i], maxDepth - 1)) return true;
    return false;
  }
  for (const key in value) if (nestsDeeperThan((value as Record<string, unknown>)[key], maxDepth - 1)) return true;
  return false;
}
