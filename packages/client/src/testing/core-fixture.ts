import { afterEach } from 'vitest';
import { ClientCore } from '../client-core.js';
import type { ClientOptions } from '../client-options.js';
import { createMemoryStorage } from '../storage/memory-storage.js';
import { envelope, readTabMessage, type TabMessage } from '../tabs/tab-messages.js';
import type { BroadcastChannelLike } from '../tabs/tab-coordinator.js';
import { dbName } from './client-set.js';

/** A channel that keeps what this tab posts (as the other tabs would read it) and lets a test speak as another tab. */
export function recordingChannel() {
  const posted: TabMessage[] = [];
  const raw: unknown[] = [];
  let channel: BroadcastChannelLike | undefined;
  return {
    posted,
    /** What was posted, as sent (with its version). */
    raw,
    open: (): BroadcastChannelLike =>
      (channel = {
        postMessage: (data) => {
          raw.push(data);
          const heard = readTabMessage(data);
          if (heard.ok) posted.push(heard.message);
        },
        close: () => undefined,
        onmessage: null,
      }),
    /** Another tab of this build says `message`. */
    hear: (message: TabMessage) => channel?.onmessage?.({ data: envelope(message) }),
    /** Anything heard on the channel (another build's message, junk). */
    hearRaw: (data: unknown) => channel?.onmessage?.({ data }),
  };
}

/**
 * The parts of a client (`ClientCore`) on memory storage, with a recording channel and no locks
 * unless given (so it syncs on its own); closed after each test. For tests of one part with its
 * real neighbours.
 */
export function coreFixture() {
  const open: ClientCore[] = [];
  afterEach(async () => {
    for (const core of open.splice(0)) await core.close();
  });
  return async (options: Partial<ClientOptions> = {}) => {
    const channel = recordingChannel();
    const name = options.name ?? dbName('core');
    const core = await ClientCore.open({
      name,
      storage: createMemoryStorage(name),
      ...options,
      tabs: { locks: null, channel: channel.open, lifecycle: null, ...(options.tabs || {}) },
    });
    open.push(core);
    return { core, channel };
  };
}
