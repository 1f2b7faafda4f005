// Every system the peer benchmark can run, in table order. Automerge-repo runs only when asked
// (`--automerge`): ~70 s per W1 run here.
import { convergeClientMemory, convergeClientSqlite } from '../client/peer-driver.js';
import { automergeRepo } from './automerge/driver.js';
import { convergeMemory, convergeSqlite } from './converge/driver.js';
import type { PeerDriver } from './driver.js';
import { pouchdb } from './pouchdb/driver.js';
import { yjs } from './yjs/driver.js';

export const DRIVERS: readonly PeerDriver[] = [convergeSqlite, convergeMemory, convergeClientSqlite, convergeClientMemory, yjs, pouchdb, automergeRepo];

/** Systems run unless asked otherwise. */
export const DEFAULT_SYSTEMS = ['converge-sqlite', 'converge-memory', 'converge-client-sqlite', 'converge-client-memory', 'yjs', 'pouchdb'];

export function driverNamed(name: string): PeerDriver {
  const driver = DRIVERS.find((d) => d.name === name);
  if (driver === undefined) throw new Error(`unknown system '${name}'; systems: ${DRIVERS.map((d) => d.name).join(', ')}`);
  return driver;
}
