// `npm run bench`: every benchmark, printed as Markdown for bench/RESULTS.md.
import { cpus } from 'node:os';
import { runConflictBench } from './conflict/merge.bench.js';

const only = process.argv[2];
const suites: [string, () => Promise<string>][] = [['conflict', runConflictBench]];

console.log(`# run ${new Date().toISOString()} · node ${process.version} · ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}\n`);
for (const [name, run] of suites) {
  if (only !== undefined && only !== name) continue;
  console.log(`## ${name}\n`);
  console.log(await run());
  console.log();
}
