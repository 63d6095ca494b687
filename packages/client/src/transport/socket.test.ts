import { describe, expect, it } from 'vitest';
import { signalingUrl } from './socket.js';

describe('signalingUrl', () => {
  it('maps http to ws and https to wss, adding the signaling path', () => {
    expect(signalingUrl('http://127.0.0.1:7880')).toBe('ws://127.0.0.1:7880/v1/ws');
    expect(signalingUrl('https://video.example.com/')).toBe('wss://video.example.com/v1/ws');
  });

  it('keeps a path prefix (a server behind a reverse proxy)', () => {
    expect(signalingUrl('https://example.com/video/')).toBe('wss://example.com/video/v1/ws');
  });

  it('accepts ws(s) URLs and drops query and fragment', () => {
    expect(signalingUrl('ws://h:1/v1/ws?x=1#y')).toBe('ws://h:1/v1/ws');
  });

  it('throws TypeError for a non-URL or another scheme', () => {
    expect(() => signalingUrl('localhost:7880')).toThrow(TypeError);
    expect(() => signalingUrl('ftp://h/')).toThrow(TypeError);
  });
});
