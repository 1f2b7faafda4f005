import type { AnyCrdtType } from './crdt-type.js';
import { counter } from './counter.js';
import { orMap } from './or-map.js';
import { orSet } from './or-set.js';
import { register } from './register.js';

/** A shopping cart: item → quantity, an OR-map of counters. Remove wins only over what it saw. */
export const cart = orMap(counter);

/** Per-field last-writer-wins map: an OR-map of registers read by highest HLC. */
export const lwwMap = orMap(register);

/** The CRDT strategies a relay configuration may name, by name. */
export const CRDT_TYPES: Readonly<Record<'counter' | 'orSet' | 'cart' | 'lwwMap', AnyCrdtType>> = Object.freeze({
  counter: counter as AnyCrdtType,
  orSet: orSet as AnyCrdtType,
  cart: cart as AnyCrdtType,
  lwwMap: lwwMap as AnyCrdtType,
});

export const STRATEGY_NAMES = ['siblings', 'lww', 'merge', 'counter', 'orSet', 'cart', 'lwwMap'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];
