import { compact, containsContext, contextHas, type CausalContext, type Dot, type ReplicaId } from '@converge/conflict';

/**
 * The dots of `read` that `held` also has. A tab's remembered read context can name dots its
 * replica no longer holds (a rolled-back write, a write re-applied under a new replica id);
 * a write must not claim them.
 */
export function intersectContexts(read: CausalContext, held: CausalContext): CausalContext {
  if (containsContext(held, read)) return read;
  const vv = new Map<ReplicaId, number>();
  const dots: Dot[] = [];
  for (const [replica, counter] of read.vv) {
    const prefix = Math.min(counter, held.vv.get(replica) ?? 0);
    if (prefix > 0) vv.set(replica, prefix);
    for (const dot of held.cloud) if (dot[0] === replica && dot[1] > prefix && dot[1] <= counter) dots.push(dot);
  }
  for (const dot of read.cloud) if (contextHas(held, dot)) dots.push(dot);
  return compact(new Map([...vv].sort((a, b) => (a[0] < b[0] ? -1 : 1))), dots);
}

/** `ctx` without the given dots (each replica's prefix is cut below the first one removed). */
export function removeDots(ctx: CausalContext, removed: readonly Dot[]): CausalContext {
  if (removed.length === 0) return ctx;
  const gone = new Set(removed.map((d) => `${d[0]}:${d[1]}`));
  const vv = new Map(ctx.vv);
  const dots: Dot[] = ctx.cloud.filter((d) => !gone.has(`${d[0]}:${d[1]}`));
  for (const [replica, counter] of ctx.vv) {
    const lowest = removed.filter((d) => d[0] === replica && d[1] <= counter).reduce((min, d) => Math.min(min, d[1]), Infinity);
    if (lowest === Infinity) continue;
    if (lowest > 1) vv.set(replica, lowest - 1);
    else vv.delete(replica);
    for (let n = lowest + 1; n <= counter; n++) if (!gone.has(`${replica}:${n}`)) dots.push([replica, n]);
  }
  return compact(vv, dots);
}
