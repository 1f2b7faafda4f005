// A CPU profile of one codec path, in plain node on the built packages:
//   npx tsx bench/protocol/codec.profile.ts [push|changes|w1] [path substring] [passes]
// writes the .cpuprofile to /tmp/prof-codec and prints its summary (bench/profile-summary.ts).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from '../profile-summary.js';
import { passes, workload, type Kind } from './codec.bench.js';
import { runInNode } from './run-in-node.js';

const [kind = 'changes', match = 'protocol:', count = '10'] = process.argv.slice(2);
if (kind !== 'push' && kind !== 'changes' && kind !== 'w1') throw new Error('kind is push, changes or w1');

if (process.env['CONVERGE_PROFILE_CHILD'] === '1') {
  const w = workload(kind as Kind);
  const entry = Object.entries(passes(w)).find(([name]) => name.includes(match));
  if (entry === undefined) throw new Error(`no codec path matches '${match}'`);
  const [name, pass] = entry;
  pass(w.frames.length); // warm-up, so the profile is the steady state
  const t0 = performance.now();
  for (let i = 0; i < Number(count); i++) pass(w.frames.length);
  const s = (performance.now() - t0) / 1000;
  console.log(`${kind} · ${name}: ${Math.round((Number(count) * w.frames.length * w.perFrame) / s).toLocaleString('en')} records/s over ${count} passes`);
} else {
  const dir = '/tmp/prof-codec';
  rmSync(dir, { recursive: true, force: true });
  const out = await runInNode(fileURLToPath(import.meta.url), ['--cpu-prof', `--cpu-prof-dir=${dir}`], [kind, match, count], { CONVERGE_PROFILE_CHILD: '1' });
  console.log(out.trim());
  for (const file of readdirSync(dir)) console.log(summarize(JSON.parse(readFileSync(join(dir, file), 'utf8')), 30));
}
