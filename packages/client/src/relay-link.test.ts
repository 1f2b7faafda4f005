import { afterEach, describe, expect, it, vi } from 'vitest';
import { coreFixture } from './testing/core-fixture.js';
import { eventually } from './testing/eventually.js';
import { createMemoryLocks } from './testing/memory-locks.js';
import { scriptedRelay } from './testing/scripted-relay.js';
import type { Transport } from './sync/transport.js';
import { codeOf } from './testing/code-of.js';

const open = coreFixture();

afterEach(() => {
  vi.useRealTimers();
});

describe('RelayLink', () => {
  it('without a relay there is nothing to lead: no connection, a leader read is offline, a new collection is not subscribed here', async () => {
    const { core } = await open();
    expect(core.link.leading).toBe(false);
    expect(await codeOf(core.link.read('notes', ['k']))).toBe('offline');
    expect(core.link.subscribe('notes')).toBe(false);
  });

  it('paused: the tab holding the socket opens none until resume; pause closes it again', async () => {
    let opened = 0;
    const relay = scriptedRelay();
    const counting: Transport = { open: (handlers) => (opened++, relay.transport.open(handlers)) };
    const { core } = await open({ transport: counting, paused: true });
    expect(core.link.leading).toBe(true);
    expect(opened).toBe(0);
    expect(core.status.get()).toMatchObject({ paused: true, connection: 'offline' });
    core.link.resume();
    expect(opened).toBe(1);
    expect(core.status.get()).toMatchObject({ paused: false, connection: 'connecting' });
    core.link.pause();
    expect(core.status.get()).toMatchObject({ paused: true, connection: 'offline' });
    core.link.restart(); // paused: a replaced storage does not reconnect either
    expect(opened).toBe(1);
  });

  it('a tab without the socket reads through the leader tab: a read message, answered by read-done, or timeout after readTimeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const locks = createMemoryLocks();
    const relay = scriptedRelay();
    const leader = await open({ transport: relay.transport, tabs: { locks } });
    const { core, channel } = await open({ name: leader.core.options.name, transport: relay.transport, tabs: { locks }, readTimeoutMs: 500 });
    await vi.waitFor(() => expect(core.tabs.role).toBe('follower'));
    expect(core.link.leading).toBe(false);
    const answered = codeOf(core.link.read('notes', ['k']));
    const asked = channel.posted.find((m) => m.type === 'read');
    expect(asked).toMatchObject({ type: 'read', collection: 'notes', keys: ['k'] });
    channel.hear({ type: 'read-done', id: (asked as { id: string }).id, error: undefined });
    expect(await answered).toBe('resolved');
    const unanswered = codeOf(core.link.read('notes', ['k']));
    await vi.advanceTimersByTimeAsync(500);
    expect(await unanswered).toBe('timeout');
  });

  it('stepping down closes the socket at once (a frozen page); leading again opens a new one', async () => {
    const closed: string[] = [];
    const relay = scriptedRelay();
    const watching: Transport = {
      open: (handlers) => {
        const conn = relay.transport.open(handlers);
        return { send: (t) => conn.send(t), close: (code, reason) => (closed.push(String(reason)), conn.close(code, reason)) };
      },
    };
    const { core } = await open({ transport: watching });
    await eventually(() => expect(relay.sent.some((f) => f.type === 'hello')).toBe(true));
    core.link.stepDown();
    expect(core.link.leading).toBe(false);
    expect(closed).toEqual(['stopped']);
  });
});
