import { describe, expect, it } from 'vitest';
import { announceAddress, mungePublisherOffer, preferRemoteDtlsClient, RtpExtensionUri } from './sdp.js';

/** A Chrome 13x publisher offer (audio + video, unified plan, no simulcast), trimmed of ICE lines. */
const CHROME_OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS stream',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 00:11',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendonly',
  'a=msid:stream audio0',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:1001 cname:pubcname',
  'a=ssrc:1001 msid:stream audio0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 45 46',
  'c=IN IP4 0.0.0.0',
  'a=mid:1',
  'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:13 urn:3gpp:video-orientation',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendonly',
  'a=msid:stream video0',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=rtcp-fb:102 nack',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  'a=rtpmap:45 AV1/90000',
  'a=rtpmap:46 rtx/90000',
  'a=fmtp:46 apt=45',
  'a=ssrc-group:FID 2001 2002',
  'a=ssrc:2001 cname:pubcname',
  'a=ssrc:2001 msid:stream video0',
  'a=ssrc:2002 cname:pubcname',
  'a=ssrc:2002 msid:stream video0',
  '',
].join('\r\n');

describe('mungePublisherOffer', () => {
  const { sdp, media } = mungePublisherOffer(CHROME_OFFER);

  it('keeps only Opus in the audio section and VP8 + its RTX in the video section', () => {
    expect(sdp).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n');
    expect(sdp).toContain('m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n');
    for (const gone of ['red/48000', 'G722', 'PCMU', 'telephone-event', 'H264', 'AV1', 'apt=102', 'apt=45']) {
      expect(sdp).not.toContain(gone);
    }
    expect(sdp).toContain('a=fmtp:97 apt=96');
  });

  it('drops header extensions we do not serve and keeps transport-cc, audio level and mid', () => {
    for (const gone of ['abs-send-time', 'toffset', 'video-orientation', 'playout-delay']) expect(sdp).not.toContain(gone);
    expect(sdp).toContain(RtpExtensionUri.TRANSPORT_CC);
    expect(sdp).toContain(RtpExtensionUri.AUDIO_LEVEL);
    expect(sdp).toContain(RtpExtensionUri.MID);
  });

  it('drops goog-remb feedback (we answer with transport-cc, not REMB) and keeps nack, pli and fir', () => {
    expect(sdp).not.toContain('goog-remb');
    expect(sdp).toContain('a=rtcp-fb:96 nack\r\n');
    expect(sdp).toContain('a=rtcp-fb:96 nack pli');
    expect(sdp).toContain('a=rtcp-fb:96 ccm fir');
    expect(sdp).toContain('a=rtcp-fb:111 transport-cc');
  });

  it('reads the parameters needed to forward each track', () => {
    expect(media).toEqual([
      expect.objectContaining({ direction: 'sendonly', disabled: false, mid: '0', kind: 'audio', codec: 'opus', payloadType: 111, clockRate: 48000, channels: 2, ssrc: 1001, rtxSsrc: 0, rtxPayloadType: -1, cname: 'pubcname', transportCcId: 3, audioLevelId: 1, nack: false }),
      expect.objectContaining({ mid: '1', kind: 'video', codec: 'VP8', payloadType: 96, clockRate: 90000, ssrc: 2001, rtxSsrc: 2002, rtxPayloadType: 97, cname: 'pubcname', transportCcId: 3, audioLevelId: -1, nack: true }),
    ]);
  });

  it('marks a section without a served codec inactive and reports no media for it', () => {
    const h264Only = CHROME_OFFER.replace('m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 45 46', 'm=video 9 UDP/TLS/RTP/SAVPF 102 103').replace(
      'a=rtpmap:96 VP8/90000',
      'a=rtpmap:96 XX/90000',
    );
    const r = mungePublisherOffer(h264Only);
    expect(r.media.map((m) => m.kind)).toEqual(['audio']);
    expect(r.sdp).toContain('m=video 9 UDP/TLS/RTP/SAVPF 0');
    expect(r.sdp).toContain('a=inactive');
  });

  it('refuses RTX when the offer does not say which SSRC carries it', () => {
    const noFid = CHROME_OFFER.replace('a=ssrc-group:FID 2001 2002\r\n', '').replace(/a=ssrc:2002 [^\r]*\r\n/g, '');
    const r = mungePublisherOffer(noFid);
    const video = r.media.find((m) => m.kind === 'video')!;
    expect(video.rtxPayloadType).toBe(-1);
    expect(r.sdp).toContain('m=video 9 UDP/TLS/RTP/SAVPF 96\r\n');
    expect(r.sdp).not.toContain('apt=96');
  });
});

/** The same offer with the camera simulcast as Chrome writes it: rids q/h/f, the rid extensions, no a=ssrc. */
const CHROME_SIMULCAST_OFFER = CHROME_OFFER.replace(
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendonly\r\na=msid:stream video0',
  [
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
    'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
    'a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
    'a=sendonly',
    'a=msid:stream video0',
  ].join('\r\n'),
)
  .replace(/a=ssrc-group:FID 2001 2002\r\n/, '')
  .replace(/a=ssrc:200[12] [^\r]*\r\n/g, '')
  .replace('a=fmtp:46 apt=45\r\n', 'a=fmtp:46 apt=45\r\na=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n');

describe('mungePublisherOffer: simulcast', () => {
  it('keeps the send rids, the simulcast line and both rid extensions when simulcast is accepted', () => {
    const { sdp, media } = mungePublisherOffer(CHROME_SIMULCAST_OFFER, { simulcast: true });
    const video = sdp.slice(sdp.indexOf('m=video'));
    for (const line of ['a=rid:q send', 'a=rid:h send', 'a=rid:f send', 'a=simulcast:send q;h;f', `a=extmap:10 ${RtpExtensionUri.RID}`, `a=extmap:11 ${RtpExtensionUri.REPAIRED_RID}`])
      expect(video).toContain(`${line}\r\n`);
    expect(video).toContain('m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n'); // RTX stays: layers name their RTX by repaired rid
    expect(media[1]).toMatchObject({ kind: 'video', ssrc: 0, rtxSsrc: 0, rtxPayloadType: 97, rids: ['q', 'h', 'f'], ridId: 10, repairedRidId: 11, midId: 4 });
  });

  it("gives the simulcast track the publisher's CNAME from its other track (layers announce no SSRC)", () => {
    const { media } = mungePublisherOffer(CHROME_SIMULCAST_OFFER, { simulcast: true });
    expect(media.map((m) => m.cname)).toEqual(['pubcname', 'pubcname']);
  });

  it('removes rids, the simulcast line and the rid extensions when simulcast is not accepted (the default)', () => {
    const { sdp, media } = mungePublisherOffer(CHROME_SIMULCAST_OFFER);
    for (const gone of ['a=rid:', 'a=simulcast:', RtpExtensionUri.RID, RtpExtensionUri.REPAIRED_RID]) expect(sdp).not.toContain(gone);
    expect(media[1]).toMatchObject({ ssrc: 0, rids: [] });
  });

  it('accepts no simulcast without the rid extension, nor on audio, and keeps only rids both declared and listed', () => {
    const noRidExt = mungePublisherOffer(CHROME_SIMULCAST_OFFER.replace(/a=extmap:10 [^\r]*\r\n/, ''), { simulcast: true });
    expect(noRidExt.media[1]!.rids).toEqual([]);
    expect(noRidExt.sdp).not.toContain('a=simulcast');
    const odd = CHROME_SIMULCAST_OFFER.replace('a=rid:h send', 'a=rid:h recv').replace('a=rid:f send', 'a=rid:f send pt=96;max-width=1280').replace('a=simulcast:send q;h;f', 'a=simulcast:send q,x;h;~f;zz');
    const r = mungePublisherOffer(odd, { simulcast: true });
    expect(r.media[1]!.rids).toEqual(['q', 'f']);
    expect(r.sdp).toContain('a=simulcast:send q;f\r\n');
    expect(r.sdp).toContain('a=rid:f send\r\n'); // restrictions dropped: they may name payload types we removed
    expect(r.sdp).not.toContain('a=rid:h');
    expect(r.media[0]!.rids).toEqual([]);
  });

  it('leaves a non-simulcast offer as it was', () => {
    expect(mungePublisherOffer(CHROME_OFFER, { simulcast: true })).toEqual(mungePublisherOffer(CHROME_OFFER));
  });
});

describe('announceAddress', () => {
  it('rewrites host candidates and connection lines to the announced address, listing duplicates once', () => {
    const sdp = [
      'c=IN IP4 10.0.0.5',
      'a=candidate:1 1 UDP 2114977791 10.0.0.5 40000 typ host',
      'a=candidate:2 1 UDP 2114977535 172.17.0.1 40000 typ host',
      'a=candidate:3 1 UDP 2114977279 fe80::1 40000 typ host',
      'a=candidate:4 1 UDP 1677722111 198.51.100.1 40000 typ srflx raddr 10.0.0.5 rport 40000',
      '',
    ].join('\r\n');
    const out = announceAddress(sdp, '203.0.113.7');
    expect(out).toContain('c=IN IP4 203.0.113.7');
    expect(out).toContain('a=candidate:1 1 UDP 2114977791 203.0.113.7 40000 typ host');
    expect(out).not.toContain('a=candidate:2');
    expect(out).not.toContain('fe80::1');
    expect(out).toContain('198.51.100.1 40000 typ srflx');
  });
});

describe('preferRemoteDtlsClient', () => {
  it('turns an actpass offer into active so that our answer is passive', () => {
    const out = preferRemoteDtlsClient('a=mid:0\r\na=setup:actpass\r\na=mid:1\r\na=setup:actpass\r\n');
    expect(out).toBe('a=mid:0\r\na=setup:active\r\na=mid:1\r\na=setup:active\r\n');
    expect(preferRemoteDtlsClient('a=setup:passive\r\n')).toBe('a=setup:passive\r\n');
  });
});
