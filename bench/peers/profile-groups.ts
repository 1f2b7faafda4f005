// Self time of a V8 CPU profile grouped by what the code does, for Converge's replica B:
// a coarser view than bench/profile-summary.ts's per-function tables.

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** First match wins. */
const GROUPS: readonly [string, (name: string, url: string) => boolean][] = [
  ['garbage collection', (name) => name === '(garbage collector)'],
  ['idle', (name) => name === '(idle)'],
  ['JSON.parse of frames', (name, url) => name === 'parse' && url.includes('/protocol/')],
  ['value decode (superjson form, value codec)', (_, url) => url.includes('superjson') || url.includes('value-codec')],
  ['merge into local state', (name, url) => /merge|join/i.test(name) && (url.includes('/conflict/') || url.includes('peers/converge'))],
  ['frame validation and state decode (protocol, conflict)', (_, url) => url.includes('/protocol/') || url.includes('/conflict/')],
  ['WebSocket receive and send (ws, node streams)', (_, url) => url.includes('/ws/') || url.startsWith('node:')],
  ['harness (peers/: read loop, bookkeeping)', (_, url) => url.includes('/peers/')],
  ['other (V8 runtime, native)', () => true],
];

export function groupProfile(profile: CpuProfile): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>(GROUPS.map(([group]) => [group, 0]));
  let all = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url } = byId.get(id)!.callFrame;
    const [group] = GROUPS.find(([, match]) => match(functionName, url))!;
    const us = profile.timeDeltas[i] ?? 0;
    totals.set(group, totals.get(group)! + us);
    all += us;
  });
  const rows = [...totals].filter(([, us]) => us > 0).sort((a, b) => b[1] - a[1]);
  return [
    '| self time of | ms | % |',
    '| --- | ---: | ---: |',
    ...rows.map(([group, us]) => `| ${group} | ${(us / 1000).toFixed(0)} | ${((100 * us) / all).toFixed(1)}% |`),
  ].join('\n');
}
