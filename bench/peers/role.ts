// One replica role of one run, in a fresh process (forked by the runner with IPC):
//   role.ts <system> w1-write|w1-catchup|w1-seed|w2 <url or seed dir> <workload JSON> [what w1-write returned]
// Sends {result} or {error} to the parent, then exits.
import { driverNamed } from './drivers.js';

const [system, role, url, workload, found] = process.argv.slice(2);
if (system === undefined || role === undefined || url === undefined || workload === undefined || process.send === undefined) {
  throw new Error('usage (forked with IPC): role.ts <system> w1-write|w1-catchup|w2 <url> <workload JSON>');
}
const driver = driverNamed(system);
const run = async (): Promise<unknown> => {
  switch (role) {
    case 'w1-write':
      return driver.w1.write(url, JSON.parse(workload));
    case 'w1-catchup':
      return driver.w1.catchUp(url, JSON.parse(workload), found);
    case 'w1-seed':
      if (driver.w1.seed === undefined) throw new Error(`${system} has no w1 seed`);
      return driver.w1.seed(url, JSON.parse(workload));
    case 'w2':
      return driver.w2(url, JSON.parse(workload));
    default:
      throw new Error(`unknown role ${role}`);
  }
};
run().then(
  (result) => process.send!({ result: result ?? null }, () => process.exit(0)),
  (error: unknown) => process.send!({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1)),
);
