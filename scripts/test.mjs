#!/usr/bin/env node
// `npm test`: every suite, then one plain `N passed, N failed` line summed over all of them.
// Results are read from vitest's JSON reporter, not from its coloured text.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const outDir = join(root, '.test-results');
mkdirSync(outDir, { recursive: true });

/**
 * The browser tests drive Debian's Chromium (CHROME_PATH, default /usr/bin/chromium) through
 * playwright-core. When it is missing: as root, install it (saying so); otherwise stop with the
 * command to run. Never skip the browser tests silently.
 */
function ensureChromium() {
  const path = process.env.CHROME_PATH ?? '/usr/bin/chromium';
  if (existsSync(path)) return path;
  const install = 'apt-get install -y chromium';
  if (process.getuid?.() !== 0) {
    console.error(`Chromium is missing at ${path}; the browser tests need it. Install it with:\n  sudo ${install}\n(or set CHROME_PATH)`);
    process.exit(1);
  }
  console.log(`Chromium is missing at ${path}: installing Debian's chromium (${install})`);
  let run = spawnSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'inherit' });
  if (run.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    run = spawnSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'inherit' });
  }
  if (run.status !== 0 || !existsSync(path)) {
    console.error(`installing Chromium failed; run: ${install}`);
    process.exit(1);
  }
  return path;
}
process.env.CHROME_PATH = ensureChromium();

/**
 * The PostgreSQL tests use the local server on 127.0.0.1:5432 (database `test`), unless
 * CONVERGE_TEST_DATABASE_URL names another. When the local one is not running: start this
 * machine's cluster (`pg_ctlcluster`, as root) and create the database when missing. If that
 * fails, say why and go on: the PostgreSQL tests then fail with the reason (they never skip).
 */
function ensurePostgres() {
  if (process.env.CONVERGE_TEST_DATABASE_URL !== undefined) return;
  const ready = () => spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']).status === 0;
  if (!ready()) {
    const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
    if (versions.length === 0 || process.getuid?.() !== 0) {
      console.error('PostgreSQL is not running on 127.0.0.1:5432 and cannot be started here: the PostgreSQL tests will fail');
      return;
    }
    console.log(`PostgreSQL is not running: starting cluster ${versions[0]}/main`);
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0], 'main', 'start'], { stdio: 'inherit' });
    for (let i = 0; i < 60 && !ready(); i++) spawnSync('sleep', ['0.5']);
    if (!ready()) {
      console.error('PostgreSQL did not start: the PostgreSQL tests will fail');
      return;
    }
  }
  const psql = (sql) => spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-Atc', sql], { encoding: 'utf8' });
  if (psql("SELECT 1 FROM pg_database WHERE datname = 'test'").stdout.trim() !== '1') psql('CREATE DATABASE test');
}
ensurePostgres();

const suites = [{ name: 'unit', args: ['run', '--reporter=default', '--reporter=json'] }];

let passed = 0;
let failed = 0;
let exitCode = 0;
for (const suite of suites) {
  const report = join(outDir, `${suite.name}.json`);
  const run = spawnSync('npx', ['vitest', ...suite.args, `--outputFile.json=${report}`, ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
  });
  if (run.status !== 0) exitCode = run.status ?? 1;
  try {
    const result = JSON.parse(readFileSync(report, 'utf8'));
    passed += result.numPassedTests;
    failed += result.numFailedTests;
    // A file that fails outside any test (an import error, an empty suite) fails no test: count it.
    if (run.status !== 0 && result.numFailedTests === 0) failed += Math.max(1, result.numFailedTestSuites ?? 0);
    if (result.numTotalTests === 0) {
      console.error(`suite ${suite.name} ran no test`);
      exitCode ||= 1;
    }
  } catch (error) {
    console.error(`suite ${suite.name} wrote no readable report: ${error.message}`);
    exitCode ||= 1;
    failed += 1;
  }
}
const summary = `${passed} passed, ${failed} failed`;
writeFileSync(join(outDir, 'summary.txt'), `${summary}\n`);
console.log(summary);
process.exit(exitCode);
