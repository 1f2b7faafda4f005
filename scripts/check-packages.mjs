#!/usr/bin/env node
// `npm run check:packages`: packs every public package (`npm pack`, whose `prepack` builds it)
// and checks each tarball as the registry would serve it: publint (warnings fail too) and
// Are The Types Wrong with the esm-only profile (the packages are ES modules only).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const folders = readdirSync(join(root, 'packages'))
  .map((name) => join('packages', name))
  .filter((folder) => {
    try {
      return JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')).private !== true;
    } catch {
      return false;
    }
  });
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (command, args) => spawnSync(command, args, { cwd: root, stdio: 'inherit', timeout: 5 * 60_000 }).status === 0;

const destination = mkdtempSync(join(tmpdir(), 'converge-check-packages-'));
const failed = [];
try {
  if (!run('npm', ['pack', '--silent', '--pack-destination', destination, ...folders.flatMap((folder) => ['-w', folder])])) {
    failed.push('npm pack');
  } else {
    const tarballs = readdirSync(destination).filter((file) => file.endsWith('.tgz'));
    if (tarballs.length !== folders.length) failed.push(`npm pack: ${tarballs.length} tarballs for ${folders.length} packages`);
    for (const tarball of tarballs) {
      const path = join(destination, tarball);
      console.log(`\n::: ${tarball}`);
      if (!run(bin('publint'), ['run', path, '--strict'])) failed.push(`publint ${tarball}`);
      if (!run(bin('attw'), [path, '--profile', 'esm-only', '--format', 'table-flipped'])) failed.push(`attw ${tarball}`);
    }
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}
console.log(failed.length === 0 ? `\n${folders.length} packages: publint and attw pass` : `\nfailed: ${failed.join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
