import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The PostgreSQL server programs a test cluster runs. */
export const PG_PROGRAMS = ['initdb', 'postgres', 'pg_basebackup', 'pg_rewind', 'pg_controldata'] as const;
export type PgProgram = (typeof PG_PROGRAMS)[number];

export interface PgBinaries {
  readonly dir: string;
  /** The server's major version, e.g. 15. */
  readonly major: number;
  path(program: PgProgram): string;
}

/**
 * Finds a directory holding every program in `PG_PROGRAMS`: `binDir` when given (nothing else
 * is tried), else `$PG_BIN`, `pg_config --bindir`, then the newest `/usr/lib/postgresql/<n>/bin`
 * (Debian's layout). Throws an error naming every place looked and what was missing there, so a
 * test on a machine without PostgreSQL fails with the reason instead of being skipped.
 */
export function findPgBinaries(binDir?: string): PgBinaries {
  const candidates = binDir === undefined ? defaultCandidates() : [{ dir: binDir, from: 'the binDir option' }];
  const misses: string[] = [];
  for (const { dir, from } of candidates) {
    const missing = PG_PROGRAMS.filter((program) => !isExecutable(join(dir, program)));
    if (missing.length === 0) return binaries(dir);
    misses.push(`${dir} (${from}): no ${missing.join(', ')}`);
  }
  throw new Error(
    `PostgreSQL server binaries not found (${PG_PROGRAMS.join(', ')}). Looked in: ${misses.length === 0 ? 'nowhere (no candidate directory)' : misses.join('; ')}. ` +
      'Install the PostgreSQL server (Debian: apt-get install postgresql) or set PG_BIN to its bin directory.',
  );
}

function defaultCandidates(): { dir: string; from: string }[] {
  const out: { dir: string; from: string }[] = [];
  const fromEnv = process.env['PG_BIN'];
  if (fromEnv) out.push({ dir: fromEnv, from: '$PG_BIN' });
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dir) out.push({ dir, from: 'pg_config --bindir' });
  } catch {
    // No pg_config on PATH: fall through to the distribution layout.
  }
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((name) => /^\d+$/.test(name));
  } catch {
    // No Debian layout.
  }
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) out.push({ dir: join(root, version, 'bin'), from: 'Debian layout' });
  return out;
}

function binaries(dir: string): PgBinaries {
  const version = execFileSync(join(dir, 'postgres'), ['--version'], { encoding: 'utf8', timeout: 5_000 });
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(version);
  if (!match) throw new Error(`cannot read the PostgreSQL version from ${join(dir, 'postgres')} --version: ${version.trim()}`);
  return { dir, major: Number(match[1]), path: (program) => join(dir, program) };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
