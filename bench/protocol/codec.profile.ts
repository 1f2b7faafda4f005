// A CPU profile of one codec path, in plain node on the built packages, over the measured
// passes only (the workload is built before the profiler starts):
//   npx tsx bench/protocol/codec.profile.ts [push|changes|w1] [path substring] [passes]
// writes /tmp/prof-codec/codec-<kind>.cpuprofile and prints its summary (bench/profile-summary.ts).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from '../profile-summary.js';
import { passes, workload, type Kind } from './codec.bench.js';
import { runInNode } from './run-in-node.js';

const [kind = 'changes', match = 'protocol:', count = '10'] = process.argv.slice(2);
if (kind !== 'push' && kind !== 'changes' && kind !== 'w1') throw new Error('kind is push, changes or w1');
const dir = '/tmp/prof-codec';

if (process.env['CONVERGE_PROFILE_CHILD'] === '1') {
  const w = workload(kind as Kind);
  const entry = Object.entries(passes(w)).find(([name]) => name.includes(match));
  if (entry === undefined) throw new Error(`no codec path matches '${match}'`);
  const [name, pass] = entry;
  pass(w.frames.length); // warm-up, so the profile is the steady state
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const t0 = performance.now();
  for (let i = 0; i < Number(count); i++) pass(w.frames.length);
  const s = (performance.now() - t0) / 1000;
  const { profile } = await session.post('Profiler.stop');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `codec-${kind}.cpuprofile`), JSON.stringify(profile));
  console.log(`${kind} · ${name}: ${Math.round((Number(count) * w.frames.length * w.perFrame) / s).toLocaleString('en')} records/s over ${count} passes`);
} else {
  rmSync(dir, { recursive: true, force: true });
  const out = await runInNode(fileURLToPath(import.meta.url), [], [kind, match, count], { CONVERGE_PROFILE_CHILD: '1' });
  console.log(out.trim());
  for (const file of readdirSync(dir)) console.log(summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')), 20));
}
