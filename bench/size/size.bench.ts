// `npm run bench -- size` (W5): the gzipped, minified bundle of each system's browser client as an
// app ships it, with its dependencies: every export of each entry the app imports (esbuild,
// ESM, minified, gzip -9), WebAssembly counted as the file the app serves. Peers are bundled
// from bench/peers/node_modules (installed on first use).
import { ensurePeersInstalled } from '../peers/peers.bench.js';
import { PEERS_DIR } from '../peers/load-peer.js';
import { factsLine, rewriteSection, saveSuiteResults, startRun, type RunFacts } from '../results-store.js';
import { bundle, type Bundle } from './bundle.js';
import { CLIENT_BUDGET_GZ_BYTES, measureClientBundle, type ClientBundleSize } from './client-budget.js';

interface SystemBundle {
  readonly name: string;
  readonly label: string;
  /** What the entry imports. */
  readonly entry: string;
  readonly bundle: Bundle;
}

export interface SizeResults extends RunFacts {
  readonly systems: readonly SystemBundle[];
  readonly client: ClientBundleSize;
  readonly budgetGzBytes: number;
  readonly peerVersions: Readonly<Record<string, string>>;
}

const PEER_ENTRIES: readonly { name: string; label: string; entry: string }[] = [
  {
    name: 'yjs',
    label: 'Yjs + y-websocket + y-indexeddb',
    entry: "export * from 'yjs'; export * from 'y-websocket'; export * from 'y-indexeddb';",
  },
  { name: 'pouchdb', label: 'PouchDB browser build (pouchdb-browser: idb adapter, HTTP replication)', entry: "export { default } from 'pouchdb-browser';" },
  {
    name: 'automerge',
    label: 'Automerge-repo + IndexedDB storage + WebSocket network (Automerge WebAssembly included)',
    entry:
      "export * from '@automerge/automerge-repo'; export * from '@automerge/automerge-repo-storage-indexeddb'; export * from '@automerge/automerge-repo-network-websocket';",
  },
];

const PEER_PACKAGES = ['yjs', 'y-websocket', 'y-indexeddb', 'pouchdb-browser', '@automerge/automerge', '@automerge/automerge-repo'];

async function peerVersions(): Promise<Record<string, string>> {
  const { readFileSync } = await import('node:fs');
  return Object.fromEntries(
    PEER_PACKAGES.map((p) => [p, (JSON.parse(readFileSync(`${PEERS_DIR}node_modules/${p}/package.json`, 'utf8')) as { version: string }).version]),
  );
}

const kb = (bytes: number) => `${(bytes / 1024).toLocaleString('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} kB`;

export function sizeMarkdown(r: SizeResults): string {
  const converge = r.systems.find((s) => s.name === 'converge')!;
  const top = (b: Bundle) =>
    Object.entries(b.packages)
      .filter(([name, bytes]) => bytes > 0 && name !== '(entry)')
      .sort((x, y) => y[1] - x[1])
      .slice(0, 5)
      .map(([name, bytes]) => `${name} ${kb(bytes)}`)
      .join(', ');
  const assets = (b: Bundle) =>
    Object.entries(b.assets)
      .map(([name, a]) => `${name}: ${kb(a.bytes)}, ${kb(a.gzBytes)} gz`)
      .join('; ') || '—';
  return [
    '`npm run bench -- size` (bench/size/): each entry bundled as an app ships it: esbuild, ESM for the browser, minified, every dependency inlined, ' +
      'every export of the entries the app imports (`export * from …`), gzip level 9. WebAssembly is counted as the file the app serves beside its JavaScript. ' +
      `kB = 1,024 bytes. The peers are bundled from bench/peers/node_modules (${Object.entries(r.peerVersions)
        .map(([p, v]) => `${p} ${v}`)
        .join(', ')}).`,
    '',
    factsLine(r),
    '',
    '| client entry | JavaScript min + gz | minified | WebAssembly | total gz | ÷ Converge (gz) | largest packages (minified) |',
    '| --- | ---: | ---: | --- | ---: | ---: | --- |',
    ...r.systems.map(
      (s) =>
        `| ${s.label} | ${kb(s.bundle.gzBytes)} | ${kb(s.bundle.minBytes)} | ${assets(s.bundle)} | **${kb(s.bundle.totalGzBytes)}** | ${(s.bundle.totalGzBytes / converge.bundle.totalGzBytes).toFixed(2)}× | ${top(s.bundle)} |`,
    ),
    '',
    `Converge's client, part by part (each part's gz is what the bundle grows by when the part stops being left out, so the parts add up to the total; ` +
      `\`npm test\` runs the same measure on the sources, bench/size/client-budget.test.ts). superjson is not in it: values keep superjson's form \`{json, meta}\`, ` +
      `written and read by protocol's own codec (superjson-write.ts, superjson-read.ts, property-tested against superjson), its own line below:`,
    '',
    '| part | gz | minified |',
    '| --- | ---: | ---: |',
    ...r.client.parts.map((p) => `| ${p.name} | ${kb(p.gzBytes)} | ${kb(p.minBytes)} |`),
    `| **total** | **${kb(r.client.bundle.gzBytes)}** (${r.client.bundle.gzBytes.toLocaleString('en')} B) | ${kb(r.client.bundle.minBytes)} |`,
    '',
    `- Budget in \`npm test\`: ${kb(r.budgetGzBytes)} (${r.budgetGzBytes.toLocaleString('en')} B, \`CLIENT_BUDGET_GZ_BYTES\` in bench/size/client-budget.ts), set just above the size last measured so it passes today and fails on growth; ` +
      `the target is ≤ 25 kB gz: ${r.client.bundle.gzBytes <= 25 * 1024 ? 'met' : `**missed** by ${kb(r.client.bundle.gzBytes - 25 * 1024)}`}. Lower the constant as the bundle shrinks.`,
  ].join('\n');
}

export async function runSizeBench(): Promise<string> {
  ensurePeersInstalled();
  const run = startRun();
  const client = await measureClientBundle('dist');
  const systems: SystemBundle[] = [
    {
      name: 'converge',
      label: 'Converge client (`@converge/client`: IndexedDB storage, WebSocket sync)',
      entry: "export * from '@converge/client';",
      bundle: client.bundle,
    },
  ];
  for (const peer of PEER_ENTRIES) {
    systems.push({ ...peer, bundle: await bundle({ contents: peer.entry, resolveDir: PEERS_DIR }) });
  }
  const results: SizeResults = { ...run.end(), systems, client, budgetGzBytes: CLIENT_BUDGET_GZ_BYTES, peerVersions: await peerVersions() };
  // Bytes per bundled file serve the breakdown; bench/results keeps the totals only.
  saveSuiteResults('size', JSON.parse(JSON.stringify(results, (key: string, value: unknown) => (key === 'files' ? undefined : value))));
  const markdown = sizeMarkdown(results);
  await rewriteSection('size', 'Size (W5)', markdown);
  return markdown;
}
