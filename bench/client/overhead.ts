// What @converge/client adds to the protocol-level replica (bench/peers/converge) on the peer
// benchmark's workloads, run back to back round by round on the same relay kind: W1 (replica A
// writes 10,000 records; a fresh B catches up and reads them all; time and CPU of B) or W2 (two
// replicas each write 1,000 updates to 100 keys offline, then connect; time until both hold
// the same state). Reports the median of the per-round ratios (client / protocol) and the load
// average; writes no file. With --profile DIR, one more run of each records the measured span
// under V8's CPU profiler into DIR/<system>-<workload>.cpuprofile and prints its summary.
//   npx tsx bench/client/overhead.ts [--workload w1|w2] [--runs 7] [--relay sqlite|memory] [--profile DIR]
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarize } from '../profile-summary.js';
import type { W1CatchUp, W2Outcome } from '../peers/driver.js';
import { driverNamed } from '../peers/drivers.js';
import { groupProfile, type CpuProfile } from '../peers/profile-groups.js';
import { runRole } from '../peers/run-process.js';
import { median, pairRatios } from '../peers/stats.js';
import { expectedChecksum, FULL_W1, FULL_W2 } from '../peers/workload.js';

const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'w1' },
    runs: { type: 'string', default: '7' },
    relay: { type: 'string', default: 'sqlite' },
    profile: { type: 'string' },
  },
});
const runs = Number(values.runs);
const w2 = values.workload === 'w2';
const [protocol, client] = values.relay === 'memory' ? ['converge-memory', 'converge-client-memory'] : ['converge-sqlite', 'converge-client-sqlite'];
const checksum = expectedChecksum(FULL_W1.records);

/** One run of the workload on a fresh relay: its time, and B's CPU (W1 only). */
async function once(system: string, profileFile?: string): Promise<{ ms: number; cpuMs?: number }> {
  const driver = driverNamed(system);
  const dir = mkdtempSync(join(tmpdir(), `converge-overhead-${system}-`));
  const relay = await driver.startRelay(dir);
  try {
    if (w2) {
      const out = await runRole<W2Outcome>(system, 'w2', [relay.url, JSON.stringify(FULL_W2)], { timeoutMs: 600_000, profileFile });
      if (out.kept !== 2 * FULL_W2.keys) throw new Error(`${system}: W2 kept ${out.kept} of ${2 * FULL_W2.keys} values`);
      return { ms: out.ms };
    }
    const args = [relay.url, JSON.stringify(FULL_W1)];
    await runRole(system, 'w1-write', args, { timeoutMs: 600_000 });
    const b = await runRole<W1CatchUp>(system, 'w1-catchup', args, { timeoutMs: 600_000, profileFile });
    if (b.readable !== FULL_W1.records || b.checksum !== checksum) throw new Error(`${system}: B read ${b.readable} of ${FULL_W1.records}`);
    return { ms: b.ms, cpuMs: b.cpuMs };
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const load0 = loadavg();
const ms: Record<string, number[]> = { [protocol]: [], [client]: [] };
const cpu: Record<string, number[]> = { [protocol]: [], [client]: [] };
for (let round = 0; round <= runs; round++) {
  // Alternate which system goes first, so neither always runs on a warmer machine.
  for (const system of round % 2 === 0 ? [protocol, client] : [client, protocol]) {
    const run = await once(system);
    console.error(
      `${round === 0 ? 'warm-up' : `round ${round}/${runs}`} ${system}: ${run.ms.toFixed(0)} ms${run.cpuMs === undefined ? '' : ` (cpu ${run.cpuMs.toFixed(0)} ms)`}`,
    );
    if (round === 0) continue;
    ms[system]!.push(run.ms);
    if (run.cpuMs !== undefined) cpu[system]!.push(run.cpuMs);
  }
}
const ratio = pairRatios(ms[client]!, ms[protocol]!);
const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(0)}%`;
const cpuOf = (system: string) => (w2 ? '' : ` (cpu ${median(cpu[system]!).toFixed(0)} ms)`);
const what = w2
  ? `W2 (2 × ${FULL_W2.updates.toLocaleString('en')} offline updates to ${FULL_W2.keys} keys)`
  : `W1 catch-up of ${FULL_W1.records.toLocaleString('en')} records`;
console.log(
  `${what}, ${runs} rounds, relay ${values.relay}; load average ${load0.map((l) => l.toFixed(2)).join(' ')} → ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`  protocol-level: median ${median(ms[protocol]!).toFixed(0)} ms${cpuOf(protocol)}`);
console.log(`  client:         median ${median(ms[client]!).toFixed(0)} ms${cpuOf(client)}`);
console.log(
  `  client / protocol per round: median ${ratio.median.toFixed(2)} (${pct(ratio.median)}; ${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})${w2 ? '' : `; cpu ${pairRatios(cpu[client]!, cpu[protocol]!).median.toFixed(2)}`}`,
);
if (values.profile !== undefined) {
  mkdirSync(values.profile, { recursive: true });
  for (const system of [client, protocol]) {
    const file = join(values.profile, `${system}-${w2 ? 'w2' : 'b-catchup'}.cpuprofile`);
    const run = await once(system, file);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    console.log(
      `\nProfile of one more ${system} run (${run.ms.toFixed(0)} ms with the profiler on), ${file}:\n\n${groupProfile(profile)}\n\n${summarize(profile as never, 25)}`,
    );
  }
}
