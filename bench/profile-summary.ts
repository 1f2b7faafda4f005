// Summarizes V8 .cpuprofile files (from `node --cpu-prof`): the functions with the most self
// time, and the most inclusive ("total") time, as Markdown tables.
//   npx tsx bench/profile-summary.ts <file.cpuprofile | dir> [top=25]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName === '' ? '(anonymous)' : functionName;
  if (url === '') return name;
  const path = url.replace(/^file:\/\//, '');
  const short = path.includes('/node_modules/')
    ? path.slice(path.lastIndexOf('/node_modules/') + 14)
    : path.startsWith('/')
      ? relative(process.cwd(), path)
      : path;
  return `${name} (${short}:${lineNumber + 1})`;
}

export function summarize(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  let idle = 0;
  const selfBy = new Map<string, number>();
  const inclusiveBy = new Map<string, number>();
  // Walk the tree: inclusive time per function, counted once per stack (recursion).
  const walk = (id: number, onStack: Map<string, number>): number => {
    const node = byId.get(id)!;
    const key = label(node);
    const own = self.get(id) ?? 0;
    if (node.callFrame.functionName === '(idle)') idle += own;
    if (!IDLE.has(node.callFrame.functionName) || node.callFrame.functionName === '(garbage collector)' || node.callFrame.functionName === '(program)') {
      selfBy.set(key, (selfBy.get(key) ?? 0) + own);
    }
    onStack.set(key, (onStack.get(key) ?? 0) + 1);
    let sum = own;
    for (const child of node.children ?? []) sum += walk(child, onStack);
    const depth = onStack.get(key)! - 1;
    if (depth === 0) {
      onStack.delete(key);
      if (!IDLE.has(node.callFrame.functionName)) inclusiveBy.set(key, (inclusiveBy.get(key) ?? 0) + sum);
    } else onStack.set(key, depth);
    return sum;
  };
  const root = profile.nodes[0]!;
  walk(root.id, new Map());
  const busy = total - idle;
  const pct = (us: number, of: number) => `${((100 * us) / of).toFixed(1)}%`;
  const ms = (us: number) => (us / 1000).toFixed(0);
  const lines = [
    `profile: ${ms(total)} ms sampled, ${ms(busy)} ms busy (${pct(busy, total)}), ${ms(idle)} ms idle`,
    '',
    '| self ms | % of busy | function |',
    '| ---: | ---: | --- |',
  ];
  for (const [key, us] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`| ${ms(us)} | ${pct(us, busy)} | ${key} |`);
  lines.push('', '| total ms | % of busy | function (inclusive) |', '| ---: | ---: | --- |');
  for (const [key, us] of [...inclusiveBy].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`| ${ms(us)} | ${pct(us, busy)} | ${key} |`);
  return lines.join('\n');
}

function files(arg: string): string[] {
  if (!statSync(arg).isDirectory()) return [arg];
  return readdirSync(arg)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(arg, f));
}

const [target, topArg] = process.argv.slice(2);
if (target !== undefined && process.argv[1]?.includes('profile-summary') === true) {
  for (const file of files(target)) {
    console.log(`### ${file}\n`);
    console.log(summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(topArg ?? 25)));
    console.log();
  }
}
