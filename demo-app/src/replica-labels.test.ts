import { describe, expect, it } from 'vitest';
import { replicaLabel } from './replica-labels.js';

describe('replica labels', () => {
  it('name a replica by its device; two replicas registered under one name (new browser data, same device name) never look the same', () => {
    const names = new Map([
      ['k3XaQ9zLm0pR2sT4', 'phone'],
      ['Bv7wYt0cDe1fGh2i', 'phone'],
      ['Lp0oKi9uJy8hTg7r', 'laptop'],
    ]);
    const [a, b] = [replicaLabel(names, 'k3XaQ9zLm0pR2sT4'), replicaLabel(names, 'Bv7wYt0cDe1fGh2i')];
    expect(a).not.toBe(b);
    expect([a, b]).toEqual(['phone·k3Xa', 'phone·Bv7w']);
    expect(replicaLabel(names, 'Lp0oKi9uJy8hTg7r')).toBe('laptop');
  });

  it('takes as much of the ids as tells twins apart', () => {
    const names = new Map([
      ['abcdEFGH00000000', 'tablet'],
      ['abcdEFxy11111111', 'tablet'],
    ]);
    expect(replicaLabel(names, 'abcdEFGH00000000')).toBe('tablet·abcdEFG');
    expect(replicaLabel(names, 'abcdEFxy11111111')).toBe('tablet·abcdEFx');
  });

  it('shows an unregistered replica by the start of its id', () => {
    expect(replicaLabel(new Map(), 'Zz9yXx8wVv7uTt6s')).toBe('Zz9yXx');
  });
});
