// `npm run bench -- render`: runs nothing; re-renders the generated sections of bench/RESULTS.md
// from bench/results/latest.json (each suite's section only when its saved run was full-size,
// as the suite itself decides when it runs), and prints them.
import { w4Markdown, type W4Results } from './browser/w4.bench.js';
import { fanoutMarkdown, type FanoutResults } from './fanout/fanout.bench.js';
import { mapMarkdown, type MapResults } from './map/map.bench.js';
import { CASES } from './map/map-cases.js';
import { runPeersBench } from './peers/peers.bench.js';
import { loadSuiteResults, rewriteSection } from './results-store.js';
import { scalingMarkdown } from './scaling/scaling-markdown.js';
import type { ScalingResults } from './scaling/scaling-results.js';
import { sizeMarkdown, type SizeResults } from './size/size.bench.js';
import { fileURLToPath } from 'node:url';

export async function runRender(): Promise<string> {
  const out: string[] = [];
  const section = async (suite: string, heading: string, markdown: string, full: boolean) => {
    if (full) await rewriteSection(suite, heading, markdown);
    out.push(`### ${suite}${full ? '' : ' (not full-size: RESULTS.md left as it was)'}`, '', markdown, '');
  };
  const size = loadSuiteResults<SizeResults>('size');
  if (size !== undefined) await section('size', 'Size (W5)', sizeMarkdown(size), true);
  const fanout = loadSuiteResults<FanoutResults>('fanout');
  if (fanout !== undefined) {
    const o = fanout.options;
    const full = fanout.countedRuns >= 5 && o.subscribers === 100 && o.rate === 1000 && o.writers === 10 && o.changes === 10_000;
    await section(
      'fanout',
      'Fan-out and one slow subscriber (W3)',
      fanoutMarkdown(fanout),
      full && fanout.slowClose !== undefined && fanout.search !== undefined,
    );
  }
  const browser = loadSuiteResults<W4Results>('browser');
  if (browser !== undefined) await section('browser', 'Browser side by side (W4)', w4Markdown(browser), browser.countedRuns >= 5 && browser.records === 10_000);
  const map = loadSuiteResults<MapResults>('map');
  if (map !== undefined) {
    await section(
      'map',
      'Public map workload (W6)',
      mapMarkdown(map),
      map.countedRuns >= 5 && map.clients === 100 && map.suiteN === 6000 && map.cases.length === CASES.length,
    );
  }
  const scaling = loadSuiteResults<ScalingResults>('scaling');
  if (scaling !== undefined) {
    const parts = [scaling.w1, scaling.idle, scaling.offline, scaling.cold];
    await section(
      'scaling',
      'Scaling (issue 16, section 1)',
      scalingMarkdown(scaling),
      parts.every((p) => p?.full === true),
    );
  }
  if (loadSuiteResults('peers') !== undefined)
    out.push('### peers', '', await runPeersBench(['--render', fileURLToPath(new URL('./results/latest.json', import.meta.url))]));
  return out.join('\n');
}
