// W4's Converge page (bundled by w4.bench.ts): 10,000 records written through `client.batch`
// (IndexedDB storage, ack local, strict durability), and after a reload the client opened cold
// to its first `get`. It carries the client bench's raw-idb baseline too (`clientBench`).
import { createClient } from '@converge/client';
import '../client/browser-bench.js';
import { recordKey, recordValue, touch } from '../peers/workload.js';

const bench = {
  async write(name: string, n: number): Promise<{ ms: number }> {
    const client = await createClient({ name, tabs: false });
    const t0 = performance.now();
    await client.batch((b) => {
      const records = b.collection('records');
      for (let i = 1; i <= n; i++) records.put(recordKey(i), recordValue(i));
    });
    const ms = performance.now() - t0;
    await client.close();
    return { ms };
  },
  async coldRead(name: string, key: string): Promise<{ ms: number; checksum: number }> {
    const t0 = performance.now();
    const client = await createClient({ name, tabs: false });
    const doc = await client.collection('records').get(key);
    const ms = performance.now() - t0;
    await client.close();
    return { ms, checksum: doc === undefined ? -1 : touch(doc.value) };
  },
  usage: async (): Promise<number> => (await navigator.storage.estimate()).usage ?? NaN,
};

(globalThis as { bench?: typeof bench }).bench = bench;
document.title = 'ready';
