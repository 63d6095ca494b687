import { expect, test } from 'vitest';
import { toNdcIceServers } from './iceServers.js';

test('W3C STUN and TURN servers become node-datachannel servers with credentials and transport', () => {
  expect(toNdcIceServers({ urls: 'stun:stun.example.org:3478' })).toEqual(['stun:stun.example.org:3478']);
  expect(
    toNdcIceServers({ urls: ['turn:turn.example.org:3478?transport=udp', 'turn:turn.example.org?transport=tcp', 'turns:turn.example.org:443'], username: 'u', credential: 'p' }),
  ).toEqual([
    { hostname: 'turn.example.org', port: 3478, username: 'u', password: 'p', relayType: 'TurnUdp' },
    { hostname: 'turn.example.org', port: 3478, username: 'u', password: 'p', relayType: 'TurnTcp' },
    { hostname: 'turn.example.org', port: 443, username: 'u', password: 'p', relayType: 'TurnTls' },
  ]);
});

test('an unsupported ICE URL is a TypeError', () => {
  expect(() => toNdcIceServers({ urls: 'http://example.org' })).toThrow(TypeError);
});
