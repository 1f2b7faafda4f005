import { Writable } from 'node:stream';
import { pino, type Level, type Logger } from 'pino';
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

export type LogLine = Record<string, unknown>;

/**
 * A logger whose JSON lines a test can await: `next(match)` resolves with the first line, seen
 * or to come, that `match` accepts. The relay writes a line before it acts on what it says
 * (a session is logged as closing before it is closed), so a test resumes after the act.
 */
export function logSink(level: Level = 'info'): { logger: Logger; lines: LogLine[]; next(match: (line: LogLine) => boolean): Promise<LogLine> } {
  const lines: LogLine[] = [];
  const waiting: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) {
        if (text.trim() === '') continue;
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        for (const waiter of waiting.filter((w) => w.match(line))) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      done();
    },
  });
  return {
    logger: pino({ level }, sink),
    lines,
    next: (match) => {
      const seen = lines.find(match);
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiting.push({ match, resolve }));
    },
  };
}

/** A log line's message starts with `prefix`. */
export const says =
  (prefix: string) =>
  (line: LogLine): boolean =>
    String(line['msg']).startsWith(prefix);
