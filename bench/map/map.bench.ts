// `npm run bench -- map [options]` (W6): the crdt-benchmarks suite's B3 map workload ("many
// conflicts": n clients each set the same key of one shared map concurrently, then all sync)
// for Converge's `lwwMap` CRDT collection, a plain `siblings` collection, and Yjs's Y.Map.
//   --runs N          counted rounds after one warm-up round (default 5)
//   --clients N       clients through the relays (default 100)
//   --suite-n N       the suite's N for the in-process form (default 6,000: 1,540 clients)
//   --cases a,b       number, object, string (default all)
//   --profile         one more network run of the lwwMap collection (B3.1) with its clients' process under V8's CPU profiler
// Every run is a fresh process (and, through the network, a fresh relay); systems alternate
// run by run.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forkChild } from '../fanout/child.js';
import { ensurePeersInstalled } from '../peers/peers.bench.js';
import { median, pairRatios, spread, type Spread } from '../peers/stats.js';
import { yjs } from '../peers/yjs/driver.js';
import { startRelay, tempDb } from '../relay/relay-process.js';
import { summarize as summarizeProfile } from '../profile-summary.js';
import { factsLine, RESULTS_DIR, rewriteSection, saveSuiteResults, startRun, type RunFacts } from '../results-store.js';
import type { InProcessResult } from './in-process.js';
import { CASE_LABELS, CASES, MAP_KEY, suiteClients, type MapCase } from './map-cases.js';
import type { MapSystem } from './map-role.js';
import type { NetworkResult } from './network.js';

const ROLE = fileURLToPath(new URL('./map-role.ts', import.meta.url));
const SYSTEMS: readonly MapSystem[] = ['converge-lwwmap', 'converge-siblings', 'yjs'];
const LABELS: Readonly<Record<MapSystem, string>> = {
  'converge-lwwmap': 'Converge `lwwMap` collection',
  'converge-siblings': 'Converge `siblings` collection',
  yjs: 'Yjs Y.Map',
};

export interface MapRun<R> {
  readonly system: MapSystem;
  readonly kind: MapCase;
  readonly round: number;
  readonly result: R;
}

export interface MapResults extends RunFacts {
  readonly countedRuns: number;
  readonly clients: number;
  readonly suiteN: number;
  readonly suiteClients: number;
  readonly cases: readonly MapCase[];
  readonly network: readonly MapRun<NetworkResult>[];
  readonly inProcess: readonly MapRun<InProcessResult>[];
  /** Network runs that did not converge in time (not counted above). */
  readonly failures?: readonly { readonly system: MapSystem; readonly kind: MapCase; readonly round: number; readonly error: string }[];
  /** Markdown summary of the lwwMap clients' CPU profile (`--profile`). */
  readonly profile?: string;
}

async function role<R>(args: readonly string[], env: Record<string, string> = {}): Promise<R> {
  const child = await forkChild(ROLE, args, env);
  try {
    child.send({ type: 'start' });
    return (await child.next<{ type: 'done'; result: R }>('done', 600_000)).result;
  } finally {
    child.kill();
  }
}

export async function networkOnce(system: MapSystem, kind: MapCase, clients: number, profileFile?: string): Promise<NetworkResult> {
  const env: Record<string, string> = profileFile === undefined ? {} : { PEERS_CPU_PROFILE: profileFile };
  if (system === 'yjs') {
    const dir = mkdtempSync(join(tmpdir(), 'converge-map-yjs-'));
    const relay = await yjs.startRelay(dir);
    try {
      return await role<NetworkResult>(['network', system, kind, String(clients), relay.url]);
    } finally {
      await relay.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const { db, cleanup } = tempDb('map');
  const collections =
    system === 'converge-lwwmap'
      ? { [MAP_KEY]: { mode: 'multi-leader', strategy: 'lwwMap' } as const }
      : { kv: { mode: 'multi-leader', strategy: 'siblings' } as const };
  const relay = await startRelay({ db, kind: 'cli', collections });
  try {
    return await role<NetworkResult>(['network', system, kind, String(clients), relay.url], env);
  } finally {
    await relay.stop();
    cleanup();
  }
}

export async function runMapBench(argv: readonly string[] = process.argv.slice(3)): Promise<string> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '5' },
      clients: { type: 'string', default: '100' },
      'suite-n': { type: 'string', default: '6000' },
      cases: { type: 'string', default: CASES.join(',') },
      profile: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const clients = Number(values.clients);
  const suiteN = Number(values['suite-n']);
  const cases = values.cases.split(',') as MapCase[];
  ensurePeersInstalled();
  const run = startRun();
  const network: MapRun<NetworkResult>[] = [];
  const failures: { system: MapSystem; kind: MapCase; round: number; error: string }[] = [];
  const inProcess: MapRun<InProcessResult>[] = [];
  for (const kind of cases) {
    for (let round = 0; round <= runs; round++) {
      const order = SYSTEMS.map((_, i) => SYSTEMS[(i + round) % SYSTEMS.length]!);
      for (const system of order) {
        try {
          const result = await networkOnce(system, kind, clients);
          console.error(
            `[map] ${kind} ${round === 0 ? 'warm-up' : `round ${round}`} network ${system}: ${result.ms.toFixed(0)} ms, kept ${result.kept}, refused ${result.refused}`,
          );
          network.push({ system, kind, round, result });
        } catch (error) {
          // A run that did not converge in time is recorded as such; the suite goes on.
          console.error(`[map] ${kind} ${round === 0 ? 'warm-up' : `round ${round}`} network ${system}: ${String(error).slice(0, 600)}`);
          failures.push({
            system,
            kind,
            round,
            error: String(error)
              .split('\n')[0]!
              .replace(/^Error: [^:]*: /, '')
              .slice(0, 400),
          });
        }
      }
      for (const system of order) {
        const result = await role<InProcessResult>(['inproc', system, kind, String(suiteClients(suiteN))]);
        console.error(`[map] ${kind} ${round === 0 ? 'warm-up' : `round ${round}`} in-process ${system}: ${result.ms.toFixed(1)} ms, kept ${result.kept}`);
        inProcess.push({ system, kind, round, result });
      }
    }
  }
  let profile: string | undefined;
  if (values.profile) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, 'map-lwwmap-clients.cpuprofile');
    const r = await networkOnce('converge-lwwmap', 'number', clients, file);
    profile =
      `One more network run of the \`lwwMap\` collection, B3.1 (not counted: ${r.ms.toFixed(0)} ms with the profiler on), the ${clients} clients' process under V8's CPU profiler ` +
      `over the measured span (bench/results/map-lwwmap-clients.cpuprofile, not committed):\n\n${summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof summarizeProfile>[0], 15)}`;
  }
  const results: MapResults = {
    ...run.end(),
    countedRuns: runs,
    clients,
    suiteN,
    suiteClients: suiteClients(suiteN),
    cases,
    network,
    inProcess,
    failures,
    ...(profile === undefined ? {} : { profile }),
  };
  saveSuiteResults('map', results);
  const markdown = mapMarkdown(results);
  if (runs >= 5 && clients === 100 && suiteN === 6000 && cases.length === CASES.length) await rewriteSection('map', 'Public map workload (W6)', markdown);
  else console.error('[map] not a full-size run: bench/RESULTS.md left as it was');
  return markdown;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
const sp = (s: Spread, digits = 0) => `${fmt(s.min, digits)} / **${fmt(s.median, digits)}** / ${fmt(s.max, digits)}`;
const kb = (bytes: number) => `${fmt(bytes / 1024, 1)} kB`;

export function mapMarkdown(r: MapResults): string {
  const counted = <R>(runs: readonly MapRun<R>[], system: MapSystem, kind: MapCase) =>
    runs.filter((x) => x.system === system && x.kind === kind && x.round > 0).sort((a, b) => a.round - b.round);
  const toYjs = <R extends { ms: number }>(runs: readonly MapRun<R>[], system: MapSystem, kind: MapCase) => {
    if (system === 'yjs') return '1';
    const p = pairRatios(
      counted(runs, system, kind).map((x) => x.result.ms),
      counted(runs, 'yjs', kind).map((x) => x.result.ms),
    );
    return `**${fmt(p.median, 2)}×** (${fmt(p.min, 2)}–${fmt(p.max, 2)})`;
  };
  const lines = [
    '`npm run bench -- map [--runs N] [--clients N]` (bench/map/). ' +
      `${factsLine(r)} ${r.countedRuns} counted rounds after a warm-up round per case; every run a fresh process (and through the network a fresh relay); systems alternate run by run.`,
    '',
    'The crdt-benchmarks suite\'s B3 ("many conflicts"): n clients each set the same key of one shared map to their own value, concurrently, then all sync. ' +
      "Its cases: B3.1 a number (the client's index), B3.2 an object `{name, address}`, B3.3 a string (the index repeated n times). Converge runs each case on " +
      'an `lwwMap` collection (one document holding the map; each client `set(doc, "v", value)`: a CRDT op, fields last-writer-wins) and on a plain `siblings` ' +
      'collection (each client `put("v", value)` blind: concurrent values are kept as siblings). Yjs: one Y.Map, `set("v", value)`.',
    '',
    "**Which of the suite's cases apply.** B1 (one client editing a text: appends, inserts at random positions, deletions), B2 (two clients editing one text " +
      'concurrently) and B4 (replaying a real editing trace of a text) measure sequence CRDTs: positions inside a text or array, interleaving, tombstones. A ' +
      'key-value sync engine has no sequence type: a text is a value, replaced whole, so those cases would measure nothing Converge does. B3.4 (concurrent inserts ' +
      'into an array) is a sequence case too. B3.1–B3.3 are map cases: many writers on one key of a map, which is what a key-value engine resolves (by ' +
      'last-writer-wins per field, or by keeping the concurrent values), so they run here.',
    '',
    `### Through the relays: ${fmt(r.clients)} clients`,
    '',
    `${fmt(r.clients)} clients in one process (a fresh process per run), each sets the key while offline, then all connect at once; time until every client ` +
      "holds the converged state; bytes at all the clients' sockets (both directions, permessage-deflate off). Converge: `@converge/client` (memory storage) " +
      'on the relay CLI (SQLite) declaring the collection; converged when every client holds all the siblings the relay kept. The relay keeps at most ' +
      '`maxSiblingsPerKey` (100 by default) concurrent values per key and refuses pushes past that with `too_many_siblings` (the client rolls its write back and ' +
      "reports it). Yjs: y-websocket providers on its server utilities; converged when every document has every client's update.",
    '',
    '| case | system | time to converge ms, min / **median** / max | ÷ Yjs, per run pair | bytes (all clients) | concurrent values kept | writes refused | value read |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const kind of r.cases) {
    for (const system of SYSTEMS) {
      const runs = counted(r.network, system, kind);
      if (runs.length === 0) continue;
      const last = runs[runs.length - 1]!.result;
      lines.push(
        `| ${CASE_LABELS[kind]} | ${LABELS[system]} | ${sp(spread(runs.map((x) => x.result.ms)))} | ${toYjs(r.network, system, kind)} | ` +
          `${kb(median(runs.map((x) => x.result.bytes.in + x.result.bytes.out)))} | ${fmt(last.kept)} | ${fmt(median(runs.map((x) => x.result.refused)))} | ${last.shown.length > 24 ? `${last.shown.slice(0, 21)}…` : last.shown} |`,
      );
    }
  }
  for (const f of r.failures ?? [])
    lines.push(
      '',
      `- ${CASE_LABELS[f.kind]}, ${LABELS[f.system]}, ${f.round === 0 ? 'warm-up' : `round ${f.round}`}: did not converge (${f.error}); not counted.`,
    );
  lines.push(
    '',
    `### In one process, as the suite measures it: ${fmt(r.suiteClients)} clients (its N = ${fmt(r.suiteN)})`,
    '',
    "Each of the clients produces its one update; then one replica applies them all (time), as the suite times B3. Converge: each writer's push frame " +
      '(the change as a client sends it); the receiver decodes every frame and merges its delta (`mergeDocStates`), then reads the key (for `lwwMap`, the join ' +
      "of the siblings' maps). Yjs: each Y.Doc's update, applied to one Y.Doc in one transaction, then read. Update bytes: the sum over the writers; state: the " +
      "merged state's stored text (Converge) or `encodeStateAsUpdate` (Yjs). No relay here, so no sibling limit: the siblings collection keeps every value.",
    '',
    '| case | system | apply all updates ms, min / **median** / max | ÷ Yjs, per run pair | update bytes | state bytes | concurrent values kept |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const kind of r.cases) {
    for (const system of SYSTEMS) {
      const runs = counted(r.inProcess, system, kind);
      if (runs.length === 0) continue;
      const last = runs[runs.length - 1]!.result;
      lines.push(
        `| ${CASE_LABELS[kind]} | ${LABELS[system]} | ${sp(spread(runs.map((x) => x.result.ms)), 1)} | ${toYjs(r.inProcess, system, kind)} | ${kb(last.updateBytes)} | ${kb(last.docBytes)} | ${fmt(last.kept)} |`,
      );
    }
  }
  if (r.profile !== undefined) lines.push('', "### Where the lwwMap collection's clients spend their CPU", '', r.profile);
  return lines.join('\n');
}
