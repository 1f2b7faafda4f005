import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeRelayFrame, encodeFrame } from './codec.js';
import { LIMITS } from './testing/samples.js';
import { negotiateProtocol, PROTOCOL_VERSION, unsupportedProtocolMessage } from './version.js';

describe('protocol version', () => {
  it('speaks 2; a newer client falls back to it; 1 and 0 get none', () => {
    expect(PROTOCOL_VERSION).toBe(2);
    expect(negotiateProtocol(2)).toBe(2);
    expect(negotiateProtocol(9)).toBe(2);
    expect(negotiateProtocol(1)).toBeUndefined();
    expect(negotiateProtocol(0)).toBeUndefined();
    expect(unsupportedProtocolMessage(2, 'relay')).toBeUndefined();
  });

  it('a relay refuses a protocol-1 hello with bad_message naming both versions', () => {
    const result = decodeClientFrame(JSON.stringify({ type: 'hello', protocol: 1, replicaId: 'oldClient', subscriptions: [] }));
    expect(!result.ok && [result.error.code, result.error.path, result.error.message]).toEqual([
      'bad_message',
      'hello.protocol',
      'hello.protocol: protocol 1 is not supported: this relay speaks 2',
    ]);
    expect(decodeClientFrame(encodeFrame({ type: 'hello', protocol: 3, replicaId: 'newClient', subscriptions: [] })).ok).toBe(true);
  });

  it('a client refuses a welcome in a version it does not speak', () => {
    const welcome = { type: 'welcome', protocol: 1, relayId: 'r', lineage: 'L', epoch: 0, now: 0, writeNumber: 0, limits: LIMITS, collections: {} };
    const result = decodeRelayFrame(JSON.stringify(welcome));
    expect(!result.ok && result.error.message).toBe('welcome.protocol: protocol 1 is not supported: this client speaks 2');
  });
});
