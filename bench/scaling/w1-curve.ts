// W1 catch-up at growing sizes (1k … 1M records of ~106 B JSON): B's time, B's bytes, the relay's
// peak RSS and B's peak heap, per system. Each (system, size) is seeded once: Converge's relay
// stores A's writes in its SQLite file, Yjs's relay starts from the document A would leave
// (relay.mjs loads it, as a relay with persistence does). Then every counted run is a fresh
// relay process on that storage and a fresh B process. PouchDB's relay keeps memory only, so A
// writes again for each of its runs; it runs at the sizes where B finishes within 60 s.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { W1CatchUp } from '../peers/driver.js';
import { driverNamed } from '../peers/drivers.js';
import { groupProfile, type CpuProfile } from '../peers/profile-groups.js';
import { runRole } from '../peers/run-process.js';
import { summarize as summarizeProfile } from '../profile-summary.js';
import { RESULTS_DIR } from '../results-store.js';
import { median } from '../peers/stats.js';
import { expectedChecksum, rawValueBytes } from '../peers/workload.js';

export interface CurveRun {
  readonly system: string;
  readonly records: number;
  readonly round: number;
  readonly ms: number;
  readonly bytesIn: number;
  readonly cpuMs: number;
  readonly relayHwmKB: number;
  readonly peakHeapBytes: number;
  readonly maxRssKB: number;
}

export interface CurveSkip {
  readonly system: string;
  readonly records: number;
  readonly reason: string;
}

export interface CurveResults {
  readonly sizes: readonly number[];
  readonly systems: readonly string[];
  readonly runs: readonly CurveRun[];
  readonly skipped: readonly CurveSkip[];
  /** Raw value JSON per size, bytes. */
  readonly rawBytes: Readonly<Record<string, number>>;
  /** Seeding time per system and size, ms (not measured as part of a run). */
  readonly seedMs: Readonly<Record<string, number>>;
  /** Markdown summary of Converge's B under V8's CPU profiler at the largest size (`--profile`). */
  readonly profile?: string;
}

/** B may take this long; past it the system stops at this size (PouchDB: the issue's 60 s). */
const B_LIMIT_MS: Readonly<Record<string, number>> = { pouchdb: 60_000 };
const DEFAULT_B_LIMIT_MS = 10 * 60_000;
const log = (line: string) => console.error(`[scaling w1] ${line}`);
/** B holding a million records, and A building them, want more than V8's default heap. */
const bigHeap = (records: number) => (records > 200_000 ? ['--max-old-space-size=8192'] : []);

interface Seeded {
  readonly dir: string;
  readonly found: string | undefined;
}

async function seed(system: string, records: number): Promise<Seeded | undefined> {
  const driver = driverNamed(system);
  const workload = { records };
  const dir = mkdtempSync(join(tmpdir(), `converge-scaling-${system}-`));
  if (driver.w1.seed !== undefined) {
    await runRole(system, 'w1-seed', [dir, JSON.stringify(workload)], { timeoutMs: 20 * 60_000, execArgv: bigHeap(records) });
    return { dir, found: undefined };
  }
  if (system === 'converge-sqlite') {
    const relay = await driver.startRelay(dir);
    try {
      await runRole(system, 'w1-write', [relay.url, JSON.stringify(workload)], { timeoutMs: 20 * 60_000, execArgv: bigHeap(records) });
    } finally {
      await relay.stop();
    }
    return { dir, found: undefined };
  }
  rmSync(dir, { recursive: true, force: true });
  return undefined; // seeded by each run
}

async function runOnce(system: string, records: number, round: number, seeded: Seeded | undefined, checksum: number, profileFile?: string): Promise<CurveRun> {
  const driver = driverNamed(system);
  const workload = JSON.stringify({ records });
  const dir = seeded?.dir ?? mkdtempSync(join(tmpdir(), `converge-scaling-${system}-`));
  const relay = await driver.startRelay(dir);
  const limit = B_LIMIT_MS[system] ?? DEFAULT_B_LIMIT_MS;
  try {
    let found = seeded?.found;
    if (seeded === undefined) found = (await runRole<string | null>(system, 'w1-write', [relay.url, workload], { timeoutMs: 2 * limit })) ?? undefined;
    const args = found === undefined ? [relay.url, workload] : [relay.url, workload, found];
    const b = await runRole<W1CatchUp>(system, 'w1-catchup', args, { timeoutMs: limit, execArgv: bigHeap(records), profileFile });
    if (b.readable !== records || b.checksum !== checksum)
      throw new Error(`${system} at ${records}: B read ${b.readable} records (checksum ${b.checksum}, expected ${checksum})`);
    return {
      system,
      records,
      round,
      ms: b.ms,
      bytesIn: b.bytes.in,
      cpuMs: b.cpuMs,
      relayHwmKB: relay.hwmKB(),
      peakHeapBytes: b.peakHeapBytes ?? NaN,
      maxRssKB: b.maxRssKB ?? NaN,
    };
  } finally {
    await relay.stop();
    if (seeded === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

export async function runW1Curve(systems: readonly string[], sizes: readonly number[], runs: number, profile = false): Promise<CurveResults> {
  let profiled: string | undefined;
  const out: CurveRun[] = [];
  const skipped: CurveSkip[] = [];
  const seedMs: Record<string, number> = {};
  const rawBytes: Record<string, number> = {};
  const stopped = new Set<string>();
  for (const records of sizes) {
    rawBytes[String(records)] = rawValueBytes(records);
    const checksum = expectedChecksum(records);
    // A system with a time limit that its B, growing linearly from the last size, would pass is not tried.
    for (const system of systems) {
      const limit = B_LIMIT_MS[system];
      const previous = out.filter((r) => r.system === system && r.round > 0);
      const last = previous[previous.length - 1];
      if (stopped.has(system) || limit === undefined || last === undefined) continue;
      const projected = (median(previous.filter((r) => r.records === last.records).map((r) => r.ms)) * records) / last.records;
      if (projected > limit) {
        skipped.push({
          system,
          records,
          reason: `not run: B took ${(projected / 1000 / (records / last.records)).toFixed(1)} s at ${last.records.toLocaleString('en')} records, so ~${Math.round(projected / 1000)} s here (past the ${limit / 1000} s it is given)`,
        });
        stopped.add(system);
      }
    }
    const active = systems.filter((s) => !stopped.has(s));
    const seeded = new Map<string, Seeded | undefined>();
    try {
      for (const system of active) {
        const t0 = performance.now();
        try {
          seeded.set(system, await seed(system, records));
          seedMs[`${system}@${records}`] = performance.now() - t0;
        } catch (error) {
          skipped.push({ system, records, reason: `seeding failed: ${String(error).slice(0, 300)}` });
          stopped.add(system);
        }
      }
      // Systems alternate run by run at each size.
      for (let round = 0; round <= runs; round++) {
        for (const system of active) {
          if (stopped.has(system)) continue;
          try {
            const run = await runOnce(system, records, round, seeded.get(system), checksum);
            log(`${records} ${system} ${round === 0 ? 'warm-up' : `round ${round}`}: ${run.ms.toFixed(0)} ms, relay ${(run.relayHwmKB / 1024).toFixed(0)} MB`);
            out.push(run);
          } catch (error) {
            log(`${records} ${system}: ${String(error).slice(0, 300)}`);
            skipped.push({ system, records, reason: String(error).split('\n')[0]!.slice(0, 300) });
            stopped.add(system);
          }
        }
      }
      if (profile && records === sizes[sizes.length - 1] && active.includes('converge-sqlite') && !stopped.has('converge-sqlite')) {
        mkdirSync(RESULTS_DIR, { recursive: true });
        const file = `${RESULTS_DIR}converge-b-scaling.cpuprofile`;
        const run = await runOnce('converge-sqlite', records, -1, seeded.get('converge-sqlite'), checksum, file);
        const cpuProfile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
        profiled =
          `One more converge-sqlite run at ${records.toLocaleString('en')} records (not counted: ${run.ms.toFixed(0)} ms with the profiler on): V8's CPU profiler in B's ` +
          `process over the measured span (bench/results/converge-b-scaling.cpuprofile, not committed).\n\n${groupProfile(cpuProfile)}\n\nBy function:\n\n` +
          summarizeProfile(cpuProfile as unknown as Parameters<typeof summarizeProfile>[0], 15);
      }
    } finally {
      for (const s of seeded.values()) if (s !== undefined) rmSync(s.dir, { recursive: true, force: true });
    }
  }
  return { sizes, systems, runs: out, skipped, rawBytes, seedMs, ...(profiled === undefined ? {} : { profile: profiled }) };
}
