import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const START = fileURLToPath(new URL('../../scripts/start.mjs', import.meta.url));

describe('npm start -- --cluster without PostgreSQL', () => {
  it('says in one line that it needs the server programs and where it looked, and exits 1 having started nothing', () => {
    const data = mkdtempSync(join(tmpdir(), 'converge-demo-nopg-'));
    chmodSync(data, 0o755); // (as root, the postgres user must be able to enter it: checked first)
    try {
      const run = spawnSync(process.execPath, [START, '--cluster', '--pg-bin', '/nonexistent/pg/bin', '--port', '0', '--relay-port', '0', '--data', data], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^npm start: --cluster needs PostgreSQL's server programs: .*\/nonexistent\/pg\/bin .*no initdb/);
      expect(run.stdout).not.toMatch(/Converge demo:/);
      expect(existsSync(join(data, 'demo.db'))).toBe(false);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
