// `npm run bench`: every benchmark, printed as Markdown for bench/RESULTS.md.
// `npm run bench -- <suite> [options]` runs one suite (the list below; each suite's file lists its options).
import { cpus } from 'node:os';
import { runConflictBench } from './conflict/merge.bench.js';
import { runCodecBench } from './protocol/codec.bench.js';
import { runRelayBench } from './relay/relay.bench.js';

const only = process.argv[2];
// Runs nothing: re-renders RESULTS.md's generated sections from bench/results/latest.json.
const RENDER: [string, () => Promise<string>] = ['render', async () => (await import('./render.js')).runRender()];
const suites: [string, () => Promise<string>][] = [
  ['conflict', runConflictBench],
  ['codec', runCodecBench],
  ['relay', runRelayBench],
  ['peers', async () => (await import('./peers/peers.bench.js')).runPeersBench()],
  ['client', async () => (await import('./client/client.bench.js')).runClientBench()],
  ['scaling', async () => (await import('./scaling/scaling.bench.js')).runScalingBench()],
  ['fanout', async () => (await import('./fanout/fanout.bench.js')).runFanoutBench()],
  ['browser', async () => (await import('./browser/w4.bench.js')).runW4Bench()],
  ['map', async () => (await import('./map/map.bench.js')).runMapBench()],
  ['size', async () => (await import('./size/size.bench.js')).runSizeBench()],
  ['postgres', async () => (await import('./postgres/postgres.bench.js')).runPostgresBench()],
];
if (only === RENDER[0]) suites.push(RENDER);
if (only !== undefined && !suites.some(([name]) => name === only)) {
  console.error(`unknown suite '${only}'; suites: ${suites.map(([name]) => name).join(', ')}`);
  process.exit(2);
}

console.log(`# run ${new Date().toISOString()} · node ${process.version} · ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}\n`);
for (const [name, run] of suites) {
  if (only !== undefined && only !== name) continue;
  console.log(`## ${name}\n`);
  console.log(await run());
  console.log();
}
