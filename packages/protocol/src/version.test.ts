import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeRelayFrame, encodeFrame } from './codec.js';
import { LIMITS } from './testing/samples.js';
import { negotiateProtocol, PROTOCOL_VERSION, unsupportedProtocolMessage } from './version.js';

describe('protocol version', () => {
  it('speaks 3; a newer client falls back to it; 2, 1 and 0 get none', () => {
    expect(PROTOCOL_VERSION).toBe(3);
    expect(negotiateProtocol(3)).toBe(3);
    expect(negotiateProtocol(9)).toBe(3);
    expect(negotiateProtocol(2)).toBeUndefined();
    expect(negotiateProtocol(1)).toBeUndefined();
    expect(negotiateProtocol(0)).toBeUndefined();
    expect(unsupportedProtocolMessage(3, 'relay')).toBeUndefined();
  });

  it('a relay refuses a protocol-2 hello (acks matched by position) with bad_message naming both versions', () => {
    const result = decodeClientFrame(JSON.stringify({ type: 'hello', protocol: 2, replicaId: 'oldClient', subscriptions: [] }));
    expect(!result.ok && [result.error.code, result.error.path, result.error.message]).toEqual([
      'bad_message',
      'hello.protocol',
      'hello.protocol: protocol 2 is not supported: this relay speaks 3',
    ]);
    expect(decodeClientFrame(encodeFrame({ type: 'hello', protocol: 4, replicaId: 'newClient', subscriptions: [] })).ok).toBe(true);
  });

  it('a client refuses a welcome in a version it does not speak', () => {
    const welcome = { type: 'welcome', protocol: 2, relayId: 'r', lineage: 'L', epoch: 0, now: 0, writeNumber: 0, limits: LIMITS, collections: {} };
    const result = decodeRelayFrame(JSON.stringify(welcome));
    expect(!result.ok && result.error.message).toBe('welcome.protocol: protocol 2 is not supported: this client speaks 3');
  });
});
