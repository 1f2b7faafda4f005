// `npm run bench -- peers [options]`: Converge side by side with Yjs, PouchDB and (optionally)
// Automerge-repo on issue 7's workloads. See bench/RESULTS.md ("Peers") for what is measured.
//   --runs N            counted rounds after the warm-up (default 5)
//   --systems a,b       systems to run (default converge-sqlite,converge-memory,yjs,pouchdb)
//   --automerge         add Automerge-repo (slow: ~70 s per W1 run)
//   --records N         W1 size (default 10,000); --updates N --keys N: W2 size (1,000 and 100)
//   --profile           one more W1 run, replica B's catch-up under V8's CPU profiler; of --profile-system S (default converge-sqlite)
//   --render FILE       run nothing: print (and, for a full-size run, write into bench/RESULTS.md) FILE's results
// Writes bench/results/latest.json; a full-size run (default sizes, ≥ 5 rounds) also rewrites
// the generated section of bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarize as summarizeProfile } from '../profile-summary.js';
import { measuredCommit, RESULTS_DIR, rewriteSection, saveSuiteResults } from '../results-store.js';
import type { W1CatchUp, W2Outcome } from './driver.js';
import { DEFAULT_SYSTEMS, driverNamed } from './drivers.js';
import { PEERS_DIR, peersInstalled } from './load-peer.js';
import { groupProfile, type CpuProfile } from './profile-groups.js';
import { toMarkdown, type PeersResults, type W1Run, type W2Run } from './results.js';
import { runRole } from './run-process.js';
import { expectedChecksum, FULL_W1, FULL_W2, rawValueBytes, type W1Workload, type W2Workload } from './workload.js';

const ROLE_TIMEOUT_MS = 10 * 60_000;

const log = (line: string) => console.error(`[peers] ${line}`);

/** Installs the peers into bench/peers/node_modules when missing or older than bench/peers/package.json. */
export function ensurePeersInstalled(): void {
  const manifest = join(PEERS_DIR, 'package.json');
  const marker = join(PEERS_DIR, 'node_modules/.package-lock.json');
  if (peersInstalled() && statSync(marker).mtimeMs >= statSync(manifest).mtimeMs) return;
  log('installing the peer systems into bench/peers/node_modules (npm install --prefix bench/peers; first run only, not part of Converge)');
  const run = spawnSync('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund'], { stdio: ['ignore', 2, 2] });
  if (run.status !== 0) throw new Error(`npm install --prefix ${PEERS_DIR} failed (${run.status ?? run.signal})`);
}

function peerVersions(): Record<string, string> {
  const { dependencies } = JSON.parse(readFileSync(join(PEERS_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const wanted = ['yjs', 'y-websocket', 'pouchdb-core', 'pouchdb-adapter-memory', 'express-pouchdb', 'express', '@automerge/automerge-repo'];
  return Object.fromEntries(wanted.filter((p) => dependencies[p] !== undefined).map((p) => [p, dependencies[p]!]));
}

interface RunOptions {
  /** Profile replica B's catch-up into this file. */
  readonly profileFile?: string | undefined;
}

async function w1Once(system: string, round: number, workload: W1Workload, checksum: number, options: RunOptions = {}): Promise<W1Run> {
  const driver = driverNamed(system);
  const dir = mkdtempSync(join(tmpdir(), `converge-peers-${system}-`));
  const relay = await driver.startRelay(dir);
  try {
    const args = [relay.url, JSON.stringify(workload)];
    const found = await runRole<string | null>(system, 'w1-write', args, { timeoutMs: ROLE_TIMEOUT_MS });
    const b = await runRole<W1CatchUp>(system, 'w1-catchup', found === null ? args : [...args, found], {
      timeoutMs: ROLE_TIMEOUT_MS,
      profileFile: options.profileFile,
    });
    if (b.readable !== workload.records || b.checksum !== checksum) {
      throw new Error(`${system} W1: B read ${b.readable} of ${workload.records} records (checksum ${b.checksum}, expected ${checksum})`);
    }
    return { system, round, ms: b.ms, bytes: b.bytes, cpuMs: b.cpuMs, relayHwmKB: relay.hwmKB() };
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function w2Once(system: string, round: number, workload: W2Workload): Promise<W2Run> {
  const driver = driverNamed(system);
  const dir = mkdtempSync(join(tmpdir(), `converge-peers-${system}-`));
  const relay = await driver.startRelay(dir);
  try {
    const out = await runRole<W2Outcome>(system, 'w2', [relay.url, JSON.stringify(workload)], { timeoutMs: ROLE_TIMEOUT_MS });
    if (out.keys !== workload.keys) throw new Error(`${system} W2: ${out.keys} keys, expected ${workload.keys}`);
    return { system, round, ms: out.ms, bytes: out.bytes, kept: out.kept, keys: out.keys, relayHwmKB: relay.hwmKB() };
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseOptions(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '5' },
      systems: { type: 'string' },
      automerge: { type: 'boolean', default: false },
      records: { type: 'string', default: String(FULL_W1.records) },
      updates: { type: 'string', default: String(FULL_W2.updates) },
      keys: { type: 'string', default: String(FULL_W2.keys) },
      profile: { type: 'boolean', default: false },
      'profile-system': { type: 'string', default: 'converge-sqlite' },
      render: { type: 'string' },
    },
  });
  const systems = values.systems?.split(',') ?? [...DEFAULT_SYSTEMS, ...(values.automerge ? ['automerge'] : [])];
  for (const s of systems) driverNamed(s);
  return {
    runs: Number(values.runs),
    systems,
    w1: { records: Number(values.records) },
    w2: { updates: Number(values.updates), keys: Number(values.keys) },
    profile: values.profile ? driverNamed(values['profile-system']).name : undefined,
    render: values.render,
  };
}

export async function runPeersBench(argv: readonly string[] = process.argv.slice(3)): Promise<string> {
  const options = parseOptions(argv);
  if (options.render !== undefined) {
    const file = JSON.parse(readFileSync(options.render, 'utf8')) as PeersResults | { peers: PeersResults };
    return publish('peers' in file ? file.peers : file, false);
  }
  ensurePeersInstalled();
  const started = Date.now();
  const loadStart = loadavg();
  const checksum = expectedChecksum(options.w1.records);
  const w1: W1Run[] = [];
  const w2: W2Run[] = [];
  for (let round = 0; round <= options.runs; round++) {
    const what = round === 0 ? 'warm-up' : `round ${round}/${options.runs}`;
    for (const system of options.systems) {
      const run = await w1Once(system, round, options.w1, checksum);
      log(`${what} W1 ${system}: ${run.ms.toFixed(0)} ms, ${run.bytes.in} B in, relay ${(run.relayHwmKB / 1024).toFixed(0)} MB`);
      w1.push(run);
    }
    for (const system of options.systems) {
      const run = await w2Once(system, round, options.w2);
      log(`${what} W2 ${system}: ${run.ms.toFixed(0)} ms, kept ${run.kept}`);
      w2.push(run);
    }
  }
  let profile: string | undefined;
  if (options.profile !== undefined) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `${options.profile}-b-catchup.cpuprofile`);
    const run = await w1Once(options.profile, -1, options.w1, checksum, { profileFile: file });
    const cpuProfile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    profile =
      `One extra W1 run of ${options.profile} (not counted: ${run.ms.toFixed(0)} ms with the profiler on): V8's CPU profiler (what \`node --cpu-prof\` runs) ` +
      `in replica B's process over exactly the measured span, connect → every record read (bench/results/${options.profile}-b-catchup.cpuprofile, not committed; ` +
      `\`npx tsx bench/profile-summary.ts <file>\` prints this again).\n\n` +
      `${groupProfile(cpuProfile)}\n\nBy function:\n\n${summarizeProfile(cpuProfile as unknown as Parameters<typeof summarizeProfile>[0], 20)}`;
  }
  const results: PeersResults = {
    startedAt: new Date(started).toISOString(),
    commit: measuredCommit(),
    seconds: (Date.now() - started) / 1000,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${process.platform} ${process.arch}` },
    loadavg: { start: loadStart, end: loadavg() },
    workloads: { w1: options.w1, w2: options.w2, w1RawValueBytes: rawValueBytes(options.w1.records) },
    countedRuns: options.runs,
    systems: options.systems.map((name) => ({ name, label: driverNamed(name).label })),
    w1,
    w2,
    peerVersions: peerVersions(),
    ...(profile === undefined ? {} : { profile }),
  };
  return publish(results, true);
}

/** The Markdown of `results`; a full-size run's also goes into bench/RESULTS.md, and fresh results into bench/results/latest.json. */
async function publish(results: PeersResults, fresh: boolean): Promise<string> {
  if (fresh) {
    saveSuiteResults('peers', results);
    log('wrote the peers entry of bench/results/latest.json');
  }
  const markdown = toMarkdown(results);
  const { w1, w2 } = results.workloads;
  const everySystem = DEFAULT_SYSTEMS.every((name) => results.systems.some((s) => s.name === name));
  const full = everySystem && w1.records === FULL_W1.records && w2.updates === FULL_W2.updates && w2.keys === FULL_W2.keys && results.countedRuns >= 5;
  if (full) {
    await rewriteSection('peers', 'Peers', markdown);
    log('rewrote the peers section of bench/RESULTS.md');
  } else log('not a full-size run of every default system: bench/RESULTS.md left as it was');
  return markdown;
}
