// docs/PROTOCOL.md and docs/ERRORS.md are the contract: their examples must be valid frames
// and they must cover every frame type and every error code.
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from './codec.js';
import { FRAME_TYPES } from './frame.js';

const doc = (name: string): string => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');
const protocol = doc('PROTOCOL.md');
const examples = [...protocol.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/PROTOCOL.md', () => {
  it('every JSON example is a valid frame, and re-encodes to the same JSON', () => {
    expect(examples.length).toBeGreaterThan(10);
    for (const example of examples) {
      const text = JSON.stringify(JSON.parse(example));
      const decoded = decodeFrame(text);
      if (!decoded.ok) throw new Error(`${decoded.error.message} in\n${example}`);
      expect(JSON.parse(encodeFrame(decoded.value))).toEqual(JSON.parse(text));
    }
  });

  it('shows every frame type', () => {
    const shown = new Set(examples.map((e) => (JSON.parse(e) as { type: string }).type));
    expect([...shown].sort()).toEqual([...FRAME_TYPES].sort());
  });

  it('says for every error code which frame carries it and what the client does', () => {
    const table = protocol.slice(protocol.indexOf('## Error codes on the wire'));
    for (const code of ERROR_CODES) expect(table, code).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, 'm'));
  });
});

describe('docs/ERRORS.md', () => {
  it('has a section for every error code', () => {
    const errors = doc('ERRORS.md');
    for (const code of ERROR_CODES) expect(errors, code).toMatch(new RegExp(`^## \`${code}\`$`, 'm'));
  });
});
