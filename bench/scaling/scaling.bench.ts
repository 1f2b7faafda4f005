// `npm run bench -- scaling [options]` (issue 16, section 1): how Converge behaves as its data
// and its user count grow.
//   --runs N             counted runs after one warm-up run, in every part (default 5)
//   --only a,b           parts: w1, idle, offline, cold (default all)
//   --sizes a,b          W1 catch-up sizes (default 1000,10000,100000,1000000)
//   --systems a,b        W1 systems (default converge-sqlite,yjs,pouchdb)
//   --connections a,b    idle connections (default 100,1000,5000)
//   --offline-records N --offline-k a,b   offline catch-up (default 100,000 records; k 10,1000,100000)
//   --cold a,b           cold-open database sizes in Chromium (default 10000,100000,1000000)
//   --profile            W1: one more Converge run at the largest size with B under V8's CPU profiler
// Writes the `scaling` entry of bench/results/latest.json (a part run alone keeps the other
// parts' last results) and, when every part has run at full size, the generated section of
// bench/RESULTS.md.
import { parseArgs } from 'node:util';
import { ensurePeersInstalled } from '../peers/peers.bench.js';
import { loadSuiteResults, rewriteSection, saveSuiteResults, startRun } from '../results-store.js';
import { runColdOpen } from './cold-open.js';
import { runIdleCurve } from './idle-curve.js';
import { scalingMarkdown } from './scaling-markdown.js';
import { runOfflineCatchup } from './offline-catchup.js';
import { runW1Curve } from './w1-curve.js';
import type { ScalingPart, ScalingResults } from './scaling-results.js';

const DEFAULTS = {
  sizes: '1000,10000,100000,1000000',
  systems: 'converge-sqlite,yjs,pouchdb',
  connections: '100,1000,5000',
  'offline-records': '100000',
  'offline-k': '10,1000,100000',
  cold: '10000,100000,1000000',
};

const list = (s: string) => s.split(',').map((x) => x.trim());
const numbers = (s: string) => list(s).map(Number);

export async function runScalingBench(argv: readonly string[] = process.argv.slice(3)): Promise<string> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '5' },
      only: { type: 'string', default: 'w1,idle,offline,cold' },
      sizes: { type: 'string', default: DEFAULTS.sizes },
      systems: { type: 'string', default: DEFAULTS.systems },
      connections: { type: 'string', default: DEFAULTS.connections },
      'offline-records': { type: 'string', default: DEFAULTS['offline-records'] },
      'offline-k': { type: 'string', default: DEFAULTS['offline-k'] },
      cold: { type: 'string', default: DEFAULTS.cold },
      profile: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const only = new Set(list(values.only));
  const isDefault = (key: keyof typeof DEFAULTS) => values[key] === DEFAULTS[key];
  const previous = loadSuiteResults<ScalingResults>('scaling') ?? {};
  const results: { -readonly [K in keyof ScalingResults]: ScalingResults[K] } = { ...previous };
  const part = async <T>(run: () => Promise<T>, full: boolean): Promise<ScalingPart<T>> => {
    const facts = startRun();
    const out = await run();
    return { ...facts.end(), countedRuns: runs, full: full && runs >= 5, results: out };
  };
  if (only.has('w1')) {
    const systems = list(values.systems);
    if (systems.some((s) => !s.startsWith('converge'))) ensurePeersInstalled();
    results.w1 = await part(() => runW1Curve(systems, numbers(values.sizes), runs, values.profile), isDefault('sizes') && isDefault('systems'));
  }
  if (only.has('idle')) results.idle = await part(() => runIdleCurve(numbers(values.connections), runs), isDefault('connections'));
  if (only.has('offline')) {
    results.offline = await part(
      () => runOfflineCatchup(Number(values['offline-records']), numbers(values['offline-k']), runs),
      isDefault('offline-records') && isDefault('offline-k'),
    );
  }
  if (only.has('cold')) results.cold = await part(() => runColdOpen(numbers(values.cold), runs), isDefault('cold'));
  saveSuiteResults('scaling', results);
  const markdown = scalingMarkdown(results);
  const parts = [results.w1, results.idle, results.offline, results.cold];
  if (parts.every((p) => p?.full === true)) await rewriteSection('scaling', 'Scaling (issue 16, section 1)', markdown);
  else console.error('[scaling] not every part has a full-size run yet: bench/RESULTS.md left as it was');
  return markdown;
}
