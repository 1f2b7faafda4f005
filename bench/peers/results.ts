// What one `npm run bench -- peers` measured (bench/results/latest.json) and its Markdown.
import type { WireBytes } from './socket-bytes.js';
import { pairRatios, spread, median, type Spread } from './stats.js';
import type { W1Workload, W2Workload } from './workload.js';

export interface W1Run {
  readonly system: string;
  /** 0 is the warm-up. */
  readonly round: number;
  readonly ms: number;
  readonly bytes: WireBytes;
  readonly cpuMs: number;
  readonly relayHwmKB: number;
}

export interface W2Run {
  readonly system: string;
  readonly round: number;
  readonly ms: number;
  readonly bytes: WireBytes;
  readonly kept: number;
  readonly keys: number;
  readonly relayHwmKB: number;
}

export interface PeersResults {
  readonly startedAt: string;
  /** The commit measured (`git rev-parse --short HEAD`), marked when packages/ had uncommitted changes. */
  readonly commit: string;
  readonly seconds: number;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string; readonly platform: string };
  /** 1, 5 and 15-minute load averages. */
  readonly loadavg: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly workloads: { readonly w1: W1Workload; readonly w2: W2Workload; readonly w1RawValueBytes: number };
  readonly countedRuns: number;
  readonly systems: readonly { readonly name: string; readonly label: string }[];
  /** Every run, warm-up (round 0) included. */
  readonly w1: readonly W1Run[];
  readonly w2: readonly W2Run[];
  readonly peerVersions: Readonly<Record<string, string>>;
  /** Markdown summary of the CPU profile of Converge's replica B (`--profile`). */
  readonly profile?: string;
}

const counted = <T extends { system: string; round: number }>(runs: readonly T[], system: string) =>
  runs.filter((r) => r.system === system && r.round > 0).sort((a, b) => a.round - b.round);

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / 1e6, 2)} MB`;
const ms = (s: Spread) => `${fmt(s.min)} / **${fmt(s.median)}** / ${fmt(s.max)}`;
const ratio = (s: Spread) => `**${fmt(s.median, 2)}×** (${fmt(s.min, 2)}–${fmt(s.max, 2)})`;

export interface Summary {
  readonly w1: Readonly<Record<string, { ms: Spread; bytesIn: number; bytesOut: number; cpuMs: number; relayMB: number }>>;
  readonly w2: Readonly<Record<string, { ms: Spread; kept: number; keys: number; bytesIn: number; relayMB: number }>>;
  /** Median of per-pair ratios, row system ÷ column system. */
  readonly w1Ratios: Readonly<Record<string, Readonly<Record<string, Spread>>>>;
  readonly w2Ratios: Readonly<Record<string, Readonly<Record<string, Spread>>>>;
}

export function summarize(results: PeersResults): Summary {
  const names = results.systems.map((s) => s.name);
  const ratios = (runs: readonly (W1Run | W2Run)[]) =>
    Object.fromEntries(
      names.map((a) => [
        a,
        Object.fromEntries(
          names.map((b) => [
            b,
            pairRatios(
              counted(runs, a).map((r) => r.ms),
              counted(runs, b).map((r) => r.ms),
            ),
          ]),
        ),
      ]),
    );
  return {
    w1: Object.fromEntries(
      names.map((name) => {
        const runs = counted(results.w1, name);
        return [
          name,
          {
            ms: spread(runs.map((r) => r.ms)),
            bytesIn: median(runs.map((r) => r.bytes.in)),
            bytesOut: median(runs.map((r) => r.bytes.out)),
            cpuMs: median(runs.map((r) => r.cpuMs)),
            relayMB: median(runs.map((r) => r.relayHwmKB)) / 1024,
          },
        ];
      }),
    ),
    w2: Object.fromEntries(
      names.map((name) => {
        const runs = counted(results.w2, name);
        return [
          name,
          {
            ms: spread(runs.map((r) => r.ms)),
            kept: median(runs.map((r) => r.kept)),
            keys: median(runs.map((r) => r.keys)),
            bytesIn: median(runs.map((r) => r.bytes.in)),
            relayMB: median(runs.map((r) => r.relayHwmKB)) / 1024,
          },
        ];
      }),
    ),
    w1Ratios: ratios(results.w1),
    w2Ratios: ratios(results.w2),
  };
}

function ratioMatrix(names: readonly string[], ratios: Summary['w1Ratios']): string[] {
  return [
    `| row ÷ column | ${names.join(' | ')} |`,
    `| --- |${names.map(() => ' ---: |').join('')}`,
    ...names.map((a) => `| ${a} | ${names.map((b) => (a === b ? '1' : `${fmt(ratios[a]![b]!.median, 2)}×`)).join(' | ')} |`),
  ];
}

export function toMarkdown(results: PeersResults): string {
  const s = summarize(results);
  const names = results.systems.map((x) => x.name);
  const label = (name: string) => results.systems.find((x) => x.name === name)!.label;
  const { w1, w2, w1RawValueBytes } = results.workloads;
  const records = w1.records;
  const written = 2 * w2.keys;
  const hasYjs = names.includes('yjs');
  const toYjs = (r: Summary['w1Ratios'], name: string) => (hasYjs ? (name === 'yjs' ? '1' : ratio(r[name]!['yjs']!)) : '—');
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const lines = [
    '`npm run bench -- peers [--runs N] [--automerge] [--profile]` (bench/peers/peers.bench.ts lists every option). The peers install into ' +
      '`bench/peers/node_modules` on first use (`npm install --prefix bench/peers`, their own package.json), never with Converge. ' +
      'A full-size run rewrites this section and `bench/results/latest.json`.',
    '',
    `Run ${results.startedAt} (${fmt(results.seconds)} s) of ${results.commit} · ${results.machine.cpu} × ${results.machine.cores} · node ${results.machine.node} · ` +
      `load average (1 / 5 / 15 min) ${load(results.loadavg.start)} at start, ${load(results.loadavg.end)} at end. ` +
      `The machine's 2 cores are shared with other work, so single runs move a lot; compare the medians of per-pair ratios.`,
    '',
    `Systems alternate run by run (${names.join(', ')}, then again), 1 warm-up round then ${results.countedRuns} counted rounds; every run is a fresh relay ` +
      `process, and every replica a fresh process. Peers: ${Object.entries(results.peerVersions)
        .map(([p, v]) => `${p} ${v}`)
        .join(', ')}.`,
    '',
    `### W1 catch-up: ${fmt(records)} records of ~${fmt(w1RawValueBytes / records)} B JSON`,
    '',
    `Replica A writes every record and the relay holds them; then a fresh replica B (its own process) connects, decodes and applies everything, and reads ` +
      `every value as an app would. Time: B's start of connecting → every record read. Bytes: TCP bytes at B's sockets (permessage-deflate off). ` +
      `Relay peak RSS: VmHWM of the relay process after B is done (A's writes included). Raw value JSON: ${mb(w1RawValueBytes)}. ` +
      `PouchDB's HTTP responses are gzip-compressed (express-pouchdb's default), so its bytes are compressed bytes; the WebSocket systems send uncompressed frames.`,
    '',
    '| system | B catch-up ms, min / **median** / max | ÷ Yjs, per run pair | B bytes received (per record) | B bytes sent | B CPU ms | relay peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...names.map((n) => {
      const r = s.w1[n]!;
      return `| ${label(n)} | ${ms(r.ms)} | ${toYjs(s.w1Ratios, n)} | ${mb(r.bytesIn)} (${fmt(r.bytesIn / records)} B) | ${mb(r.bytesOut)} | ${fmt(r.cpuMs)} | ${fmt(r.relayMB)} MB |`;
    }),
    '',
    'W1 time, median of per-pair ratios:',
    '',
    ...ratioMatrix(names, s.w1Ratios),
    '',
    `### W2 concurrent offline edits: 2 replicas × ${fmt(w2.updates)} updates to the same ${fmt(w2.keys)} keys`,
    '',
    `Both replicas (one process) edit while offline, then connect at once; time until both hold the same state. Kept: concurrent values one replica ` +
      `keeps over all keys, of the ${written} written concurrently (the last write of each replica to each key). Converge squashes each key's offline ` +
      `writes in the outbox (a merge of the deltas) and keeps concurrent writes as siblings; a Y.Map keeps one value per key; PouchDB keeps the losing ` +
      `revision as a conflict; Automerge keeps conflicts per map key.`,
    '',
    '| system | converge ms, min / **median** / max | ÷ Yjs, per run pair | values kept | bytes received (both replicas) | relay peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...names.map((n) => {
      const r = s.w2[n]!;
      return `| ${label(n)} | ${ms(r.ms)} | ${toYjs(s.w2Ratios, n)} | ${fmt(r.kept)} / ${written} | ${mb(r.bytesIn)} | ${fmt(r.relayMB)} MB |`;
    }),
    '',
    'W2 time, median of per-pair ratios:',
    '',
    ...ratioMatrix(names, s.w2Ratios),
    '',
    ...targets(results, s),
  ];
  if (results.profile !== undefined) lines.push('', "### Where Converge's replica B spends its CPU (W1, SQLite relay)", '', results.profile);
  return lines.join('\n');
}

/** Issue 7's targets, for each Converge row present. */
function targets(results: PeersResults, s: Summary): string[] {
  const names = results.systems.map((x) => x.name);
  if (!names.includes('yjs')) return [];
  const raw = results.workloads.w1RawValueBytes;
  const verdict = (ok: boolean, miss: string) => (ok ? 'met' : `**MISSED** (${miss})`);
  const out = ['Targets (issue 7), medians of per-pair ratios:', ''];
  for (const n of names.filter((x) => x.startsWith('converge'))) {
    const w1 = s.w1Ratios[n]!['yjs']!.median;
    const bytes = s.w1[n]!.bytesIn / raw;
    const rss = s.w1[n]!.relayMB;
    const yjsRss = s.w1['yjs']!.relayMB;
    const w2 = s.w2Ratios[n]!['yjs']!.median;
    const kept = s.w2[n]!.kept;
    const written = 2 * results.workloads.w2.keys;
    out.push(
      `- ${n}: W1 B catch-up ${fmt(w1, 2)}× Yjs (target ≤ 0.8×: ${verdict(w1 <= 0.8, `by ${fmt(w1 - 0.8, 2)}×`)}); ` +
        `B bytes ${fmt(bytes, 2)}× raw value JSON (target ≤ 1.2×: ${verdict(bytes <= 1.2, `by ${fmt(bytes - 1.2, 2)}×`)}); ` +
        `relay peak RSS ${fmt(rss)} MB vs Yjs ${fmt(yjsRss)} MB (target ≤ Yjs: ${verdict(rss <= yjsRss, `by ${fmt(rss - yjsRss)} MB`)}); ` +
        `W2 ${fmt(w2, 2)}× Yjs (target ≤ 1.0×: ${verdict(w2 <= 1, `by ${fmt(w2 - 1, 2)}×`)}), kept ${fmt(kept)} / ${written} (${verdict(kept === written, `${written - kept} lost`)}).`,
    );
  }
  return out;
}
