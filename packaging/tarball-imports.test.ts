import { describe, expect, it } from 'vitest';
import { importedPackages } from './tarball-imports.js';

describe('importedPackages', () => {
  it('finds static, side-effect, re-exported and dynamic imports of packages, multi-line ones included', () => {
    const code = [
      "import { a } from 'idb';",
      "import {\n  b,\n  c,\n} from '@converge/conflict/testing';",
      "export { d } from 'superjson';",
      "import 'side-effect';",
      "const ws = await import('ws');",
      "import { join } from 'node:path';",
      "import { x } from './local.js';",
      "import fs from 'fs';",
    ].join('\n');
    expect(importedPackages(code)).toEqual(['@converge/conflict', 'idb', 'side-effect', 'superjson', 'ws']);
  });

  it('ignores comments and strings that only look like imports', () => {
    const code = [
      "/** @example\n * import { y } from 'fast-check';\n * (await import('vitest'))\n */",
      "// import { z } from 'react';",
      "throw new Error('this client has no relay to read from');",
      'const s = "nothing from";',
    ].join('\n');
    expect(importedPackages(code)).toEqual([]);
  });
});
