// One B3 run in a fresh process (forked with IPC by map.bench.ts):
//   map-role.ts inproc <system> <case> <clients>
//   map-role.ts network <system> <case> <clients> <url>
// Replies {type:'done', result} (or {type:'error', error}) once it is asked to start.
import { convergeLwwMap, convergeSiblings, yjsMap } from './in-process.js';
import type { MapCase } from './map-cases.js';
import { convergeNetwork, yjsNetwork } from './network.js';

export type MapSystem = 'converge-lwwmap' | 'converge-siblings' | 'yjs';

export async function runMapRole(mode: 'inproc' | 'network', system: MapSystem, kind: MapCase, clients: number, url = ''): Promise<unknown> {
  if (mode === 'inproc') {
    if (system === 'converge-lwwmap') return convergeLwwMap(kind, clients);
    if (system === 'converge-siblings') return convergeSiblings(kind, clients);
    return yjsMap(kind, clients);
  }
  if (system === 'yjs') return yjsNetwork(url, kind, clients);
  return convergeNetwork(url, system === 'converge-lwwmap' ? 'lwwMap' : 'siblings', kind, clients);
}

if (process.send !== undefined && process.argv[1]?.endsWith('map-role.ts')) {
  const [mode, system, kind, clients, url] = process.argv.slice(2);
  const send = process.send.bind(process);
  send({ type: 'ready' });
  process.once('message', () => {
    void runMapRole(mode as 'inproc' | 'network', system as MapSystem, kind as MapCase, Number(clients), url).then(
      (result) => send({ type: 'done', result }, () => process.exit(0)),
      (error: unknown) => send({ type: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1)),
    );
  });
  setTimeout(() => process.exit(1), 600_000).unref();
}
