import type { Doc, Hlc } from '@converge/client';
import { replicaLabel } from '../replica-labels.js';

const two = (n: number) => String(n).padStart(2, '0');

/** "14:03:07". */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** "14:03:07.512": HLC wall clocks, where milliseconds tell writes apart. */
export function preciseClock(ms: number): string {
  return `${clock(ms)}.${String(new Date(ms).getMilliseconds()).padStart(3, '0')}`;
}

/** A dot as the inspector shows it: "laptop:3". */
export function dotText(names: ReadonlyMap<string, string>, dot: readonly [string, number]): string {
  return `${replicaLabel(names, dot[0])}:${dot[1]}`;
}

/** An HLC: wall clock, logical counter, replica. */
export function hlcText(names: ReadonlyMap<string, string>, hlc: Hlc): string {
  return `${preciseClock(hlc.wall)} #${hlc.logical} ${replicaLabel(names, hlc.replica)}`;
}

export type Badge = 'pending' | 'confirmed';

export const badgeOf = (doc: Pick<Doc<unknown>, 'pending'> | undefined): Badge | undefined =>
  doc === undefined ? undefined : doc.pending ? 'pending' : 'confirmed';
