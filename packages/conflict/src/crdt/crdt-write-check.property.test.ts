import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDot, contextHas, type CausalContext } from '../causal-context.js';
import { emptyDocState, mergeDocStates, nextDot, type DocState } from '../doc-state.js';
import type { Dot } from '../dot.js';
import { applyCrdtOp, checkCrdtWrite, joinSiblings } from './crdt-doc.js';
import type { CrdtState } from './crdt-type.js';
import type { DotFun } from './dot-fun.js';
import { propertyOptions } from '../testing/property-options.js';
import { cart } from './types.js';

type Cart = CrdtState<ReadonlyMap<string, DotFun<number>>>;
type CartDoc = DocState<Cart>;
type CartOp = { type: 'update'; key: string; op: { type: 'increment'; by: number } } | { type: 'remove'; key: string } | { type: 'clear' };

const REPLICAS = ['A', 'B', 'C'] as const;
const FORGER = 'M';
const ITEMS = ['milk', 'eggs', 'caviar'] as const;

/**
 * One step of a history at the relay: an honest write by a tab (a replica has two tabs, each
 * with its own possibly stale copy and an outbox; dots come from the replica's shared counter),
 * a tab pushing its squashed outbox, a tab catching up from the relay, or a forged write by a
 * collaborator M who has seen what the relay holds (or an older copy of it) and fills its value
 * with entries of its choosing under other replicas' dots.
 */
type Step =
  | { kind: 'op'; replica: number; tab: number; op: CartOp }
  | { kind: 'push'; replica: number; tab: number }
  | { kind: 'sync'; replica: number; tab: number }
  | { kind: 'forge'; snapshot: number; entries: { pick: number; item: number; amount: number; genuine: boolean }[] };

const arbOp: fc.Arbitrary<CartOp> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      type: fc.constant('update' as const),
      key: fc.constantFrom(...ITEMS),
      op: fc.record({ type: fc.constant('increment' as const), by: fc.integer({ min: -2, max: 3 }) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('remove' as const), key: fc.constantFrom(...ITEMS) }) },
  { weight: 1, arbitrary: fc.constant({ type: 'clear' as const }) },
);
const at = { replica: fc.nat(REPLICAS.length - 1), tab: fc.nat(1) };
const arbStep = (forging: boolean): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('op' as const), ...at, op: arbOp }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('push' as const), ...at }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('sync' as const), ...at }) },
    {
      weight: forging ? 3 : 0,
      arbitrary: fc.record({
        kind: fc.constant('forge' as const),
        snapshot: fc.nat(),
        entries: fc.array(fc.record({ pick: fc.nat(), item: fc.nat(ITEMS.length - 1), amount: fc.integer({ min: -5, max: 100 }), genuine: fc.boolean() }), {
          minLength: 1,
          maxLength: 4,
        }),
      }),
    },
  );

const dotKey = (dot: Dot) => `${dot[0]}:${dot[1]}`;
const merge = (a: CartDoc, b: CartDoc): CartDoc => mergeDocStates(a, b).state;
const dotsOf = (ctx: CausalContext): Dot[] => [...[...ctx.vv].flatMap(([r, n]) => Array.from({ length: n }, (_, i): Dot => [r, i + 1])), ...ctx.cloud];

/** Runs a history against a model relay that judges every write with `checkCrdtWrite` and merges what it accepts. */
function run(steps: readonly Step[]) {
  let relay: CartDoc = emptyDocState();
  const snapshots: CartDoc[] = [relay];
  const floors = REPLICAS.map(() => 0);
  const tabs = REPLICAS.map(() => [0, 1].map(() => ({ state: emptyDocState() as CartDoc, outbox: undefined as CartDoc | undefined })));
  /** Every entry an honest write made: `dot=content`. */
  const written = new Set<string>();
  let honestRefusals = 0;
  let forgerCounter = 0;
  let wall = 1;
  const judge = (delta: CartDoc, writer: string) => {
    const checked = checkCrdtWrite(cart as never, delta as never, relay as never, writer);
    if (checked.ok) {
      relay = merge(relay, delta);
      snapshots.push(relay);
    }
    return checked.ok;
  };
  for (const step of steps) {
    if (step.kind === 'forge') {
      const base = snapshots[step.snapshot % snapshots.length]!;
      const dot: Dot = [FORGER, ++forgerCounter];
      const context = addDot(base.context, dot);
      const seenDots = dotsOf(base.context);
      const genuine = [...cart.entries(joinSiblings(cart as never, relay as never).store as never)];
      const store = new Map<string, { dot: Dot; value: number }[]>();
      for (const entry of step.entries) {
        let item: string = ITEMS[entry.item]!;
        let at: Dot | undefined;
        let amount = entry.amount;
        if (entry.genuine && genuine.length > 0) {
          // A copy of an entry the relay holds (allowed: it changes nothing).
          const [gDot, content] = genuine[entry.pick % genuine.length]!;
          const [k, v] = content.split('=');
          [item, at, amount] = [JSON.parse(k!) as string, gDot, Number(v)];
        } else if (seenDots.length > 0) {
          at = seenDots[entry.pick % seenDots.length]!;
        }
        if (at === undefined || !contextHas(base.context, at)) continue;
        const list = store.get(item) ?? [];
        if (list.some((e) => dotKey(e.dot) === dotKey(at))) continue;
        list.push({ dot: at, value: amount });
        store.set(item, list);
      }
      const sorted = new Map(
        [...store]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, list]) => [k, list.sort((p, q) => (p.dot[0] === q.dot[0] ? p.dot[1] - q.dot[1] : p.dot[0] < q.dot[0] ? -1 : 1))]),
      );
      const delta: CartDoc = { context, siblings: [{ dot, hlc: { wall: wall++, logical: 0, replica: FORGER }, value: { store: sorted, seen: context } }] };
      judge(delta, FORGER);
      continue;
    }
    const replica = REPLICAS[step.replica]!;
    const tab = tabs[step.replica]![step.tab]!;
    if (step.kind === 'sync') {
      tab.state = merge(tab.state, relay);
    } else if (step.kind === 'op') {
      const dot = nextDot(tab.state, replica, floors[step.replica]!);
      floors[step.replica] = dot[1];
      const { state, delta } = applyCrdtOp(cart as never, tab.state as never, { dot, hlc: { wall: wall++, logical: 0, replica }, op: step.op as never });
      tab.state = state as unknown as CartDoc;
      tab.outbox = tab.outbox === undefined ? (delta as unknown as CartDoc) : merge(tab.outbox, delta as unknown as CartDoc);
      for (const [entryDot, content] of cart.entries(joinSiblings(cart as never, delta as never).store as never)) {
        if (dotKey(entryDot) === dotKey(dot)) written.add(`${dotKey(entryDot)}=${content}`);
      }
    } else if (tab.outbox !== undefined) {
      if (!judge(tab.outbox, replica)) honestRefusals++;
      tab.outbox = undefined;
    }
  }
  const forgedEntries = [...cart.entries(joinSiblings(cart as never, relay as never).store as never)]
    .filter(([dot]) => dot[0] !== FORGER)
    .map(([dot, content]) => `${dotKey(dot)}=${content}`)
    .filter((entry) => !written.has(entry));
  return { honestRefusals, forgedEntries };
}

describe('checkCrdtWrite on random cart histories at a relay (stale tabs, squashed outboxes)', () => {
  it('never refuses an honest write', () => {
    fc.assert(
      fc.property(fc.array(arbStep(false), { maxLength: 40 }), (steps) => {
        expect(run(steps).honestRefusals).toBe(0);
      }),
      propertyOptions({ share: 0.5 }),
    );
  });

  it("a forging collaborator never makes the joined cart hold an entry under another replica's dot that it did not write", () => {
    fc.assert(
      fc.property(fc.array(arbStep(true), { maxLength: 40 }), (steps) => {
        const { honestRefusals, forgedEntries } = run(steps);
        expect(forgedEntries).toEqual([]);
        expect(honestRefusals).toBe(0);
      }),
      propertyOptions({ share: 0.5 }),
    );
  });
});
