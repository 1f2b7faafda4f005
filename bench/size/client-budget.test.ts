// The client's bundle budget: `@converge/client` with every dependency, minified and gzipped as
// an app ships it, built from the sources as they are now, must stay within
// CLIENT_BUDGET_GZ_BYTES. Prints the per-package breakdown, so a failure shows what grew.
import { describe, expect, it } from 'vitest';
import { breakdownLines, CLIENT_BUDGET_GZ_BYTES, measureClientBundle } from './client-budget.js';

describe('client bundle budget', () => {
  it(`@converge/client with its dependencies stays within ${CLIENT_BUDGET_GZ_BYTES} B gzipped`, async () => {
    const size = await measureClientBundle('src');
    console.log(breakdownLines(size).join('\n'));
    expect(size.parts.reduce((n, p) => n + p.gzBytes, 0)).toBe(size.bundle.gzBytes);
    expect(size.bundle.gzBytes).toBeLessThanOrEqual(CLIENT_BUDGET_GZ_BYTES);
  });
});
