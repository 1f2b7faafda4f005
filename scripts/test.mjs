#!/usr/bin/env node
// `npm test`: every suite, then one plain `N passed, N failed` line summed over all of them.
// Results are read from vitest's JSON reporter, not from its coloured text.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const outDir = join(root, '.test-results');
mkdirSync(outDir, { recursive: true });

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
