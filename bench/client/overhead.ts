// What @converge/client adds to a fresh replica's catch-up: the peer benchmark's W1 (replica A
// writes 10,000 records; a fresh B catches up and reads them all), run for the protocol-level
// replica (bench/peers/converge) and the real client (peer-driver.ts) back to back, round by
// round, on the same relay kind. Reports the median of the per-round ratios (client / protocol)
// and the load average; writes no file. With --profile DIR, one more client run records B's
// measured span under V8's CPU profiler into DIR/<system>-b-catchup.cpuprofile, and one more
// protocol-level run the same way, for comparison.
//   npx tsx bench/client/catchup-overhead.ts [--runs 7] [--records 10000] [--relay sqlite|memory] [--profile DIR]
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summarize } from '../profile-summary.js';
import type { W1CatchUp } from '../peers/driver.js';
import { driverNamed } from '../peers/drivers.js';
import { groupProfile, type CpuProfile } from '../peers/profile-groups.js';
import { runRole } from '../peers/run-process.js';
import { median, pairRatios } from '../peers/stats.js';
import { expectedChecksum } from '../peers/workload.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    records: { type: 'string', default: '10000' },
    relay: { type: 'string', default: 'sqlite' },
    profile: { type: 'string' },
  },
});
const runs = Number(values.runs);
const workload = { records: Number(values.records) };
const [protocol, client] = values.relay === 'memory' ? ['converge-memory', 'converge-client-memory'] : ['converge-sqlite', 'converge-client-sqlite'];
const checksum = expectedChecksum(workload.records);

async function w1(system: string, profileFile?: string): Promise<W1CatchUp> {
  const driver = driverNamed(system);
  const dir = mkdtempSync(join(tmpdir(), `converge-catchup-${system}-`));
  const relay = await driver.startRelay(dir);
  try {
    const args = [relay.url, JSON.stringify(workload)];
    await runRole(system, 'w1-write', args, { timeoutMs: 600_000 });
    const b = await runRole<W1CatchUp>(system, 'w1-catchup', args, { timeoutMs: 600_000, profileFile });
    if (b.readable !== workload.records || b.checksum !== checksum) throw new Error(`${system}: B read ${b.readable} of ${workload.records}`);
    return b;
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
    const b = await w1(system);
    console.error(`${round === 0 ? 'warm-up' : `round ${round}/${runs}`} ${system}: ${b.ms.toFixed(0)} ms (cpu ${b.cpuMs.toFixed(0)} ms)`);
    if (round === 0) continue;
    ms[system]!.push(b.ms);
    cpu[system]!.push(b.cpuMs);
  }
}
const ratio = pairRatios(ms[client]!, ms[protocol]!);
const cpuRatio = pairRatios(cpu[client]!, cpu[protocol]!);
const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(0)}%`;
console.log(
  `W1 catch-up of ${workload.records.toLocaleString('en')} records, ${runs} rounds, relay ${values.relay}; load average ${load0.map((l) => l.toFixed(2)).join(' ')} → ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`  protocol-level: median ${median(ms[protocol]!).toFixed(0)} ms (cpu ${median(cpu[protocol]!).toFixed(0)} ms)`);
console.log(`  client:         median ${median(ms[client]!).toFixed(0)} ms (cpu ${median(cpu[client]!).toFixed(0)} ms)`);
console.log(
  `  client / protocol per round: median ${ratio.median.toFixed(2)} (${pct(ratio.median)}; ${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}); cpu ${cpuRatio.median.toFixed(2)}`,
);
if (values.profile !== undefined) {
  mkdirSync(values.profile, { recursive: true });
  for (const system of [client, protocol]) {
    const file = join(values.profile, `${system}-b-catchup.cpuprofile`);
    const b = await w1(system, file);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    console.log(
      `\nProfile of one more ${system} run (${b.ms.toFixed(0)} ms with the profiler on), ${file}:\n\n${groupProfile(profile)}\n\n${summarize(profile as never, 25)}`,
    );
  }
}
