import { decodeFrame, encodeFrame, PROTOCOL_VERSION, type ClientFrame, type RelayFrame, type WelcomeFrame } from '@converge/protocol';
import { DEFAULT_LIMITS } from '@converge/sync-server';
import type { Transport, TransportHandlers } from '../sync/transport.js';

/** A `welcome`: lineage L1, write number 0, the default limits, each of `collections` multi-leader `siblings` at its head. */
export function welcomeFrame(collections: Record<string, number> = {}, overrides: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return {
    type: 'welcome',
    protocol: PROTOCOL_VERSION,
    relayId: 'relay-1',
    lineage: 'L1',
    epoch: 0,
    now: Date.now(),
    writeNumber: 0,
    writeChain: '0',
    replication: { standbys: 0, quorum: 0 },
    limits: DEFAULT_LIMITS,
    collections: Object.fromEntries(Object.entries(collections).map(([name, head]) => [name, { mode: 'multi-leader', strategy: 'siblings', head }])),
    ...overrides,
  };
}

/**
 * A relay a test scripts frame by frame, for one connection at a time: it records what the
 * client sends and delivers what the test gives it.
 */
export function scriptedRelay() {
  const sent: ClientFrame[] = [];
  let handlers: TransportHandlers | undefined;
  const transport: Transport = {
    open(h) {
      handlers = h;
      queueMicrotask(() => h.onOpen());
      return {
        send: (text) => {
          const decoded = decodeFrame(text);
          if (!decoded.ok) throw decoded.error;
          sent.push(decoded.value as ClientFrame);
        },
        close: () => undefined,
      };
    },
  };
  return {
    transport,
    sent,
    /** Delivers a frame; returns its text. */
    deliver(frame: RelayFrame): string {
      const text = encodeFrame(frame);
      handlers!.onMessage(text);
      return text;
    },
    /** Delivers a `welcome` (see `welcomeFrame`). */
    welcome(collections: Record<string, number> = {}, overrides: Partial<WelcomeFrame> = {}): string {
      return this.deliver(welcomeFrame(collections, overrides));
    },
  };
}
