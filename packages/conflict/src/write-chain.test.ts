import { describe, expect, it } from 'vitest';
import type { Sibling } from './doc-state.js';
import { chainMark, chainWrite, WRITE_CHAIN_ZERO, writeChainProblem } from './write-chain.js';

const sibling = (counter: number, value: unknown, wall = 1000): Sibling<unknown> => ({ dot: ['A', counter], hlc: { wall, logical: 0, replica: 'A' }, value });

describe('write chain', () => {
  it('is the same for the same writes in the same order, and valid', () => {
    const a = chainWrite(chainWrite(WRITE_CHAIN_ZERO, 'c', 'k', sibling(1, 'x')), 'c', 'k', sibling(2, 'y'));
    const b = chainWrite(chainWrite(WRITE_CHAIN_ZERO, 'c', 'k', sibling(1, 'x')), 'c', 'k', sibling(2, 'y'));
    expect(a).toBe(b);
    expect(writeChainProblem(a)).toBeUndefined();
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });

  it('differs when any part of any earlier write differs: value, stamp, dot, key, collection, or an earlier write', () => {
    const base = chainWrite(WRITE_CHAIN_ZERO, 'c', 'k', sibling(1, 'x'));
    const variants = [
      chainWrite(WRITE_CHAIN_ZERO, 'c', 'k', sibling(1, 'y')),
      chainWrite(WRITE_CHAIN_ZERO, 'c', 'k', sibling(1, 'x', 1001)),
      chainWrite(WRITE_CHAIN_ZERO, 'c', 'k', sibling(2, 'x')),
      chainWrite(WRITE_CHAIN_ZERO, 'c', 'k2', sibling(1, 'x')),
      chainWrite(WRITE_CHAIN_ZERO, 'c2', 'k', sibling(1, 'x')),
      chainWrite(WRITE_CHAIN_ZERO, 'c', 'k', { dot: ['A', 1], hlc: { wall: 1000, logical: 0, replica: 'A' }, deleted: true }),
      chainMark(WRITE_CHAIN_ZERO, 'resync'),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
    // Histories that diverged once stay apart: the same later write on both gives different chains.
    expect(chainWrite(base, 'c', 'k', sibling(2, 'z'))).not.toBe(chainWrite(variants[0]!, 'c', 'k', sibling(2, 'z')));
  });

  it('refuses what is not a chain', () => {
    for (const bad of ['', 'ABC', 'g1', 'a'.repeat(33), 7, null]) expect(writeChainProblem(bad)).toBeDefined();
    expect(writeChainProblem(WRITE_CHAIN_ZERO)).toBeUndefined();
  });
});
