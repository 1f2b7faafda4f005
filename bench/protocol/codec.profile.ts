// Runs one codec path for a CPU profile:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof-codec --import tsx bench/protocol/codec.profile.ts [push|changes] [path substring] [passes]
// then: npx tsx bench/profile-summary.ts /tmp/prof-codec
import { passes, workload } from './codec.bench.js';

const [kind = 'push', match = 'protocol:', count = '10'] = process.argv.slice(2);
if (kind !== 'push' && kind !== 'changes') throw new Error('kind is push or changes');
const w = workload(kind);
const entry = Object.entries(passes(w)).find(([name]) => name.includes(match));
if (entry === undefined) throw new Error(`no codec path matches '${match}'`);
const [name, pass] = entry;
const t0 = performance.now();
for (let i = 0; i < Number(count); i++) pass(w.frames.length);
const s = (performance.now() - t0) / 1000;
console.log(`${kind} · ${name}: ${Math.round((Number(count) * w.frames.length * 100) / s).toLocaleString('en')} records/s over ${count} passes`);
