import { afterEach } from 'vitest';
import { ProtocolClient, type ProtocolClientOptions } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';
import type { RelayOptions } from '../relay-options.js';

/**
 * One relay per test and the clients a test opens, all closed after each test. `client()`
 * subscribes to `notes` from the start unless told otherwise.
 */
export function relayHarness() {
  let current: TestRelay | undefined;
  const clients: ProtocolClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await current?.close();
    current = undefined;
  });
  return {
    async start(options: Partial<RelayOptions> = {}): Promise<TestRelay> {
      current = await startTestRelay(options);
      return current;
    },
    get relay(): TestRelay {
      if (current === undefined) throw new Error('start() the relay first');
      return current;
    },
    async client(replicaId: string, extra: Partial<ProtocolClientOptions> = {}): Promise<ProtocolClient> {
      const c = await ProtocolClient.connect(this.relay.url, { replicaId, subscriptions: [{ collection: 'notes', cursor: null }], ...extra });
      clients.push(c);
      return c;
    },
  };
}
