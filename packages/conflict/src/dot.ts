import { replicaIdProblem, type ReplicaId } from './replica-id.js';

/** One immutable write: `[replica, counter]`, counter ≥ 1. */
export type Dot = readonly [replica: ReplicaId, counter: number];

export function isCounter(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

/** Order by replica, then counter: the canonical order of dots in clouds and sibling lists. */
export function compareDots(a: Dot, b: Dot): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] - b[1];
}

export function sameDot(a: Dot, b: Dot): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

export function dotKey(dot: Dot): string {
  return `${dot[0]}:${dot[1]}`;
}

/** Why `value` is not a dot, or `undefined` when it is. */
export function dotProblem(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length !== 2) return 'dot must be [replica, counter]';
  const idProblem = replicaIdProblem(value[0]);
  if (idProblem !== undefined) return idProblem;
  if (!isCounter(value[1])) return 'counter must be a safe integer ≥ 1';
  return undefined;
}
