import { expect, test } from 'vitest';
import { describeMedia, restrictOffer } from './sdp.js';

const chromeLikeOffer = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=ssrc:100 cname:x',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99',
  'a=mid:1',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=extmap:9 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time',
  'a=sendrecv',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:98 VP9/90000',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'a=ssrc-group:FID 200 201',
  'a=ssrc:200 cname:x',
  'a=ssrc:201 cname:x',
].join('\r\n');

test('restrictOffer keeps only VP8 and Opus, drops RTX/RED and transport-cc, and keeps mid and abs-capture-time', () => {
  const sdp = restrictOffer(chromeLikeOffer);
  expect(sdp).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n');
  expect(sdp).toContain('m=video 9 UDP/TLS/RTP/SAVPF 96\r\n');
  expect(sdp).not.toMatch(/transport-cc|rtx|red\/|G722|VP9|ssrc-audio-level|ssrc-group|a=ssrc:201/);
  expect(sdp).toContain('a=rtcp-fb:96 nack pli');
  expect(sdp).toContain('a=ssrc:200 cname:x');
  expect(sdp).toContain('a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid');
  expect(sdp).toContain('a=extmap:9 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time');
});

test('describeMedia reads kind, media payload types and the abs-capture-time id per mid', () => {
  const media = describeMedia(restrictOffer(chromeLikeOffer));
  expect(media.get('0')).toEqual({ kind: 'audio', payloadTypes: [111], absCaptureTimeId: null });
  expect(media.get('1')).toEqual({ kind: 'video', payloadTypes: [96], absCaptureTimeId: 9 });
});
