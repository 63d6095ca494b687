import { describe, expect, it } from 'vitest';
import { setOpusParams } from './sdp.js';

const OFFER = [
  'v=0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=rtpmap:96 VP8/90000',
  '',
].join('\r\n');

describe('setOpusParams', () => {
  it('adds stereo and maxaveragebitrate to the Opus fmtp line only, keeping CRLF endings', () => {
    const out = setOpusParams(OFFER, { stereo: true, maxAverageBitrate: 64000 });
    expect(out).toContain('a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1;maxaveragebitrate=64000\r\n');
    expect(out).toContain('a=fmtp:63 111/111\r\n');
    expect(out.split('\r\n').length).toBe(OFFER.split('\r\n').length);
  });

  it('replaces an existing value instead of duplicating it', () => {
    const once = setOpusParams(OFFER, { maxAverageBitrate: 32000 });
    const twice = setOpusParams(once, { maxAverageBitrate: 48000 });
    expect(twice).toContain('a=fmtp:111 minptime=10;useinbandfec=1;maxaveragebitrate=48000\r\n');
    expect(twice.match(/maxaveragebitrate/g)).toHaveLength(1);
  });

  it('returns the SDP unchanged when nothing is asked', () => {
    expect(setOpusParams(OFFER, {})).toBe(OFFER);
  });
});
