import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { Audio, PeerConnection, Video } from 'node-datachannel';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildAnswer, hostCandidatePriority, newIceCredentials, type AnswerOptions, type SendParameters } from './answer.js';
import { mungePublisherOffer, mungeSubscriberOffer, RtpExtensionUri } from './sdp.js';
import { isStun, rewriteMappedAddress, Stun, stunType, stunUsername, verifyIntegrity } from './stun.js';

/** A Chromium 156 publisher offer (audio + video transceivers, sendonly), captured verbatim. */
const CHROME_156_PUBLISHER_OFFER =
  String.raw`
v=0
o=- 6184363240592881176 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS
m=audio 43853 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 192.0.2.2
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:2156491776 1 udp 2113937151 192.0.2.2 43853 typ host generation 0 network-cost 999
a=candidate:1274000864 1 udp 2113942271 fd00::2 52216 typ host generation 0 network-cost 999
a=ice-ufrag:8K2X
a=ice-pwd:xQWkD6qiWg4/FWOvBWsRKTA1
a=ice-options:trickle
a=fingerprint:sha-256 4A:04:79:8C:88:FC:1B:73:3C:EC:DB:D3:7C:D6:90:B9:8B:B3:10:0A:1E:BE:F5:67:C6:79:76:04:9E:ED:D7:F2
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:- 3aeaeb41-c289-4125-90f6-80b0790c08b8
a=rtcp-mux
a=rtcp-rsize
a=rtcp-xr:rcvr-rtt=all
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:3518239038 cname:83JKEjvVpek/r0d7
a=ssrc:3518239038 msid:- 3aeaeb41-c289-4125-90f6-80b0790c08b8
m=video 46135 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 100 101 118 119 120
c=IN IP4 192.0.2.2
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:2156491776 1 udp 2113937151 192.0.2.2 46135 typ host generation 0 network-cost 999
a=candidate:1274000864 1 udp 2113942271 fd00::2 60279 typ host generation 0 network-cost 999
a=ice-ufrag:8K2X
a=ice-pwd:xQWkD6qiWg4/FWOvBWsRKTA1
a=ice-options:trickle
a=fingerprint:sha-256 4A:04:79:8C:88:FC:1B:73:3C:EC:DB:D3:7C:D6:90:B9:8B:B3:10:0A:1E:BE:F5:67:C6:79:76:04:9E:ED:D7:F2
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:- 54cdf6ec-c89f-4b65-8f1b-9cc7ab5de43d
a=rtcp-mux
a=rtcp-rsize
a=rtcp-xr:rcvr-rtt=all
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:102 H264/90000
a=rtcp-fb:102 goog-remb
a=rtcp-fb:102 transport-cc
a=rtcp-fb:102 ccm fir
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=rtpmap:104 H264/90000
a=rtcp-fb:104 goog-remb
a=rtcp-fb:104 transport-cc
a=rtcp-fb:104 ccm fir
a=rtcp-fb:104 nack
a=rtcp-fb:104 nack pli
a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
a=rtpmap:107 rtx/90000
a=fmtp:107 apt=104
a=rtpmap:108 H264/90000
a=rtcp-fb:108 goog-remb
a=rtcp-fb:108 transport-cc
a=rtcp-fb:108 ccm fir
a=rtcp-fb:108 nack
a=rtcp-fb:108 nack pli
a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:109 rtx/90000
a=fmtp:109 apt=108
a=rtpmap:114 H264/90000
a=rtcp-fb:114 goog-remb
a=rtcp-fb:114 transport-cc
a=rtcp-fb:114 ccm fir
a=rtcp-fb:114 nack
a=rtcp-fb:114 nack pli
a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
a=rtpmap:115 rtx/90000
a=fmtp:115 apt=114
a=rtpmap:116 H264/90000
a=rtcp-fb:116 goog-remb
a=rtcp-fb:116 transport-cc
a=rtcp-fb:116 ccm fir
a=rtcp-fb:116 nack
a=rtcp-fb:116 nack pli
a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
a=rtpmap:117 rtx/90000
a=fmtp:117 apt=116
a=rtpmap:39 H264/90000
a=rtcp-fb:39 goog-remb
a=rtcp-fb:39 transport-cc
a=rtcp-fb:39 ccm fir
a=rtcp-fb:39 nack
a=rtcp-fb:39 nack pli
a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
a=rtpmap:40 rtx/90000
a=fmtp:40 apt=39
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 transport-cc
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 transport-cc
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:100 VP9/90000
a=rtcp-fb:100 goog-remb
a=rtcp-fb:100 transport-cc
a=rtcp-fb:100 ccm fir
a=rtcp-fb:100 nack
a=rtcp-fb:100 nack pli
a=fmtp:100 profile-id=2
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:118 red/90000
a=rtpmap:119 rtx/90000
a=fmtp:119 apt=118
a=rtpmap:120 ulpfec/90000
a=ssrc-group:FID 317736810 48138245
a=ssrc:317736810 cname:83JKEjvVpek/r0d7
a=ssrc:317736810 msid:- 54cdf6ec-c89f-4b65-8f1b-9cc7ab5de43d
a=ssrc:48138245 cname:83JKEjvVpek/r0d7
a=ssrc:48138245 msid:- 54cdf6ec-c89f-4b65-8f1b-9cc7ab5de43d
`
    .trim()
    .split('\n')
    .join('\r\n') + '\r\n';

const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM_PATH);

function randomFingerprint(): string {
  return [...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

function options(extra: Partial<AnswerOptions> = {}): AnswerOptions {
  const ice = newIceCredentials();
  return { iceUfrag: ice.ufrag, icePwd: ice.pwd, fingerprint: randomFingerprint(), candidates: [{ ip: '203.0.113.7', port: 40000 }], ...extra };
}

/** The answer's session lines and its m-sections, each as its lines. */
function split(sdp: string): { session: string[]; sections: string[][] } {
  const session: string[] = [];
  const sections: string[][] = [];
  for (const l of sdp.split('\r\n').filter((x) => x.length > 0)) {
    if (l.startsWith('m=')) sections.push([l]);
    else if (sections.length === 0) session.push(l);
    else sections[sections.length - 1]!.push(l);
  }
  return { session, sections };
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The peer side of our answers on a UDP socket on 127.0.0.1: an ICE-lite agent that answers binding requests
 * authenticated with our password and records what arrives, so a test sees the client actually use the
 * candidate, the credentials and the DTLS role of the answer (a DTLS ClientHello means the client took the
 * active role our `a=setup:passive` gave it).
 */
class IceLitePeer {
  readonly socket: Socket = createSocket('udp4');
  /** USERNAME of every binding request whose MESSAGE-INTEGRITY verified with our password. */
  readonly verified: string[] = [];
  /** Whether one of them carried USE-CANDIDATE (the controlling agent nominated). */
  nominated = false;
  unauthenticated = 0;
  /** First byte of each non-STUN datagram (22: a DTLS handshake record). */
  readonly other: number[] = [];

  constructor(readonly pwd: string) {
    this.socket.on('message', (msg, from) => {
      if (!isStun(msg)) {
        this.other.push(msg[0]!);
        return;
      }
      if (stunType(msg) !== Stun.BINDING_REQUEST) return;
      if (!verifyIntegrity(Buffer.from(msg), pwd)) {
        this.unauthenticated++;
        return;
      }
      this.verified.push(stunUsername(msg) ?? '');
      if (hasAttribute(msg, 0x0025)) this.nominated = true;
      // Binding success: XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT (filled in by rewriteMappedAddress).
      const res = Buffer.alloc(20 + 12 + 24 + 8);
      res.writeUInt16BE(Stun.BINDING_SUCCESS, 0);
      res.writeUInt16BE(res.length - 20, 2);
      msg.copy(res, 4, 4, 20);
      res.writeUInt16BE(Stun.XOR_MAPPED_ADDRESS, 20);
      res.writeUInt16BE(8, 22);
      res[25] = 0x01;
      res.writeUInt16BE(Stun.MESSAGE_INTEGRITY, 32);
      res.writeUInt16BE(20, 34);
      res.writeUInt16BE(Stun.FINGERPRINT, 56);
      res.writeUInt16BE(4, 58);
      rewriteMappedAddress(res, from.address, from.port, pwd);
      this.socket.send(res, from.port, from.address);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }
}

function hasAttribute(msg: Buffer, type: number): boolean {
  for (let p = 20; p + 4 <= msg.length; ) {
    if (msg.readUInt16BE(p) === type) return true;
    const len = msg.readUInt16BE(p + 2);
    p += 4 + len + ((4 - (len % 4)) % 4);
  }
  return false;
}

describe('newIceCredentials', () => {
  it('makes an 8-character ufrag and a 24-character password of ICE characters, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { ufrag, pwd } = newIceCredentials();
      expect(ufrag).toMatch(/^[A-Za-z0-9+/]{8}$/);
      expect(pwd).toMatch(/^[A-Za-z0-9+/]{24}$/);
      seen.add(ufrag);
    }
    expect(seen.size).toBe(50);
  });
});

describe('hostCandidatePriority', () => {
  it('is the RFC 8445 host priority, the first candidate preferred', () => {
    expect(hostCandidatePriority(0)).toBe(2130706431);
    expect(hostCandidatePriority(0)).toBe((126 << 24) + (65535 << 8) + 255);
    expect(hostCandidatePriority(1)).toBe(2130706431 - 256);
  });
});

describe('buildAnswer: publisher (Chromium 156 offer)', () => {
  const { sdp: munged, media } = mungePublisherOffer(CHROME_156_PUBLISHER_OFFER);
  const opts = options({ sessionId: '4242', sessionVersion: 3 });
  const answer = buildAnswer(munged, opts);
  const { session, sections } = split(answer);

  it('writes CRLF lines and the session part of an ICE-lite answer bundling both sections', () => {
    expect(answer.endsWith('\r\n')).toBe(true);
    expect(answer.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(session).toEqual(['v=0', 'o=- 4242 3 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=ice-lite', 'a=msid-semantic: WMS *']);
  });

  it('answers each section recvonly with the codecs, extensions and feedback the munged offer kept', () => {
    expect(sections.map((s) => s[0])).toEqual(['m=audio 40000 UDP/TLS/RTP/SAVPF 111', 'm=video 40000 UDP/TLS/RTP/SAVPF 96 97']);
    const [audio, video] = sections as [string[], string[]];
    for (const s of sections) {
      expect(s).toContain('c=IN IP4 203.0.113.7');
      expect(s).toContain(`a=ice-ufrag:${opts.iceUfrag}`);
      expect(s).toContain(`a=ice-pwd:${opts.icePwd}`);
      expect(s).toContain(`a=fingerprint:sha-256 ${opts.fingerprint}`);
      expect(s).toContain('a=setup:passive');
      expect(s).toContain('a=recvonly');
      expect(s).toContain('a=rtcp-mux');
      expect(s).toContain('a=rtcp-rsize');
      // Nothing of the publisher's own: its SSRCs, msid, candidates, ICE options; no RTCP port (RFC 8843 §9.3.1.2).
      expect(s.filter((l) => /^a=(ssrc|ssrc-group|msid|ice-options|rtcp|rtcp-xr|extmap-allow-mixed):/.test(l))).toEqual([]);
    }
    expect(audio).toContain('a=mid:0');
    expect(audio).toContain('a=rtpmap:111 opus/48000/2');
    expect(audio).toContain('a=fmtp:111 minptime=10;useinbandfec=1');
    expect(audio).toContain('a=rtcp-fb:111 transport-cc');
    expect(audio.filter((l) => l.startsWith('a=extmap:'))).toEqual([
      `a=extmap:1 ${RtpExtensionUri.AUDIO_LEVEL}`,
      `a=extmap:3 ${RtpExtensionUri.TRANSPORT_CC}`,
      `a=extmap:4 ${RtpExtensionUri.MID}`,
    ]);
    expect(video).toContain('a=mid:1');
    expect(video.filter((l) => /^a=(rtpmap|fmtp|rtcp-fb):/.test(l))).toEqual([
      'a=rtpmap:96 VP8/90000',
      'a=rtcp-fb:96 transport-cc',
      'a=rtcp-fb:96 ccm fir',
      'a=rtcp-fb:96 nack',
      'a=rtcp-fb:96 nack pli',
      'a=rtpmap:97 rtx/90000',
      'a=fmtp:97 apt=96',
    ]);
  });

  it('lists our host candidate once, in the BUNDLE-tagged section, then end-of-candidates', () => {
    expect(answer.match(/^a=candidate:.*$/gm)).toEqual(['a=candidate:1 1 udp 2130706431 203.0.113.7 40000 typ host']);
    expect(sections[0]).toContain('a=end-of-candidates');
    expect(answer.match(/^a=end-of-candidates$/gm)).toHaveLength(1);
  });

  it('parses back with the sdp.ts helpers to the same media parameters', () => {
    const back = mungePublisherOffer(answer).media;
    expect(back.map((m) => [m.mid, m.kind, m.codec, m.payloadType, m.rtxPayloadType, m.transportCcId, m.audioLevelId, m.nack, m.direction])).toEqual(
      media.map((m) => [m.mid, m.kind, m.codec, m.payloadType, m.rtxPayloadType, m.transportCcId, m.audioLevelId, m.nack, 'recvonly']),
    );
    expect(mungePublisherOffer(answer).sdp).toBe(answer); // nothing in it the munging would remove
  });

  it('defaults to a random session id and version 0', () => {
    const a = buildAnswer(munged, options());
    const b = buildAnswer(munged, options());
    const o = /^o=- (\d+) 0 IN IP4 127\.0\.0\.1$/m;
    expect(a).toMatch(o);
    expect(o.exec(a)![1]).not.toBe(o.exec(b)![1]);
  });
});

/** The Chromium 156 offer with its camera simulcast (sendEncodings rids q/h/f): rid lines, no a=ssrc. */
const CHROME_156_SIMULCAST_OFFER = CHROME_156_PUBLISHER_OFFER.replace(/a=ssrc-group:FID 317736810 48138245\r\n/, '')
  .replace(/a=ssrc:(317736810|48138245) [^\r]*\r\n/g, '')
  .replace(/\r\n$/, '\r\na=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n');

describe('buildAnswer: simulcast publisher', () => {
  const video = (a: string): string[] => split(a).sections[1]!;

  it('receives every offered layer: a=rid:<id> recv per send rid and a=simulcast:recv in the offer order, with both rid extensions', () => {
    const a = video(buildAnswer(mungePublisherOffer(CHROME_156_SIMULCAST_OFFER, { simulcast: true }).sdp, options()));
    expect(a.filter((l) => /^a=(rid|simulcast):/.test(l))).toEqual(['a=rid:q recv', 'a=rid:h recv', 'a=rid:f recv', 'a=simulcast:recv q;h;f']);
    expect(a).toContain(`a=extmap:10 ${RtpExtensionUri.RID}`);
    expect(a).toContain(`a=extmap:11 ${RtpExtensionUri.REPAIRED_RID}`);
    expect(a).toContain('a=recvonly');
  });

  it('answers no simulcast when the munging did not accept it', () => {
    const a = video(buildAnswer(mungePublisherOffer(CHROME_156_SIMULCAST_OFFER).sdp, options()));
    expect(a.filter((l) => /^a=(rid|simulcast):|stream-id/.test(l))).toEqual([]);
  });
});

/** A subscriber offer as a browser writes it (recvonly audio + video, RTX), reduced to what matters here. */
function subscriberOffer(directions: [string, string] = ['recvonly', 'recvonly'], setup = 'actpass'): string {
  const section = (kind: string, mid: string, fmts: string, codecs: string[], direction: string): string[] => [
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${fmts}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=ice-ufrag:Ympj',
    'a=ice-pwd:EGS3k1zL7bzFcnH9wekY7o8M',
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 FA:9D:7F:81:CE:26:98:7A:A0:F3:B8:87:41:65:BD:C3:1A:5B:91:FA:90:1A:5E:A6:E0:7A:52:9B:1D:E2:10:08',
    `a=setup:${setup}`,
    `a=mid:${mid}`,
    `a=extmap:3 ${RtpExtensionUri.TRANSPORT_CC}`,
    `a=${direction}`,
    'a=rtcp-mux',
    'a=rtcp-rsize',
    ...codecs,
  ];
  return (
    [
      'v=0',
      'o=- 1101601701257763638 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'a=group:BUNDLE 0 1',
      'a=extmap-allow-mixed',
      'a=msid-semantic: WMS',
      ...section('audio', '0', '111 0', ['a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=rtpmap:0 PCMU/8000'], directions[0]),
      ...section('video', '1', '96 97 102', ['a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 goog-remb', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli', 'a=rtcp-fb:96 ccm fir', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96', 'a=rtpmap:102 H264/90000'], directions[1]),
    ].join('\r\n') + '\r\n'
  );
}

const AUDIO_SEND: SendParameters = { ssrc: 0x10001, cname: 'sfu-cname', streamId: 'stream-a', trackId: 'audio-0' };
const VIDEO_SEND: SendParameters = { ssrc: 0x20001, rtxSsrc: 0x20002, cname: 'sfu-cname', streamId: 'stream-a', trackId: 'video-1' };

describe('buildAnswer: subscriber', () => {
  const munged = mungeSubscriberOffer(subscriberOffer()).sdp;
  const send = new Map([
    ['0', AUDIO_SEND],
    ['1', VIDEO_SEND],
  ]);
  const answer = buildAnswer(munged, options({ send }));
  const { sections } = split(answer);

  it('sends on each mid with its msid, SSRCs and the RTX FID group, and echoes none of the offer feedback we do not serve', () => {
    const [audio, video] = sections as [string[], string[]];
    expect(audio[0]).toBe('m=audio 40000 UDP/TLS/RTP/SAVPF 111');
    expect(video[0]).toBe('m=video 40000 UDP/TLS/RTP/SAVPF 96 97');
    expect(audio).toContain('a=sendonly');
    expect(audio).toContain('a=msid:stream-a audio-0');
    expect(audio.filter((l) => l.startsWith('a=ssrc'))).toEqual(['a=ssrc:65537 cname:sfu-cname', 'a=ssrc:65537 msid:stream-a audio-0']);
    expect(video).toContain('a=sendonly');
    expect(video).toContain('a=msid:stream-a video-1');
    expect(video.filter((l) => l.startsWith('a=ssrc'))).toEqual([
      'a=ssrc-group:FID 131073 131074',
      'a=ssrc:131073 cname:sfu-cname',
      'a=ssrc:131073 msid:stream-a video-1',
      'a=ssrc:131074 cname:sfu-cname',
      'a=ssrc:131074 msid:stream-a video-1',
    ]);
    expect(answer).not.toContain('transport-cc');
    expect(answer).not.toContain('goog-remb');
    expect(answer).not.toContain('a=extmap');
    expect(answer).toContain('a=rtcp-fb:96 nack pli');
  });

  it('parses back with the sdp.ts helpers: our SSRCs, RTX SSRC and CNAME per mid', () => {
    const back = mungeSubscriberOffer(answer).media;
    expect(back).toEqual([
      expect.objectContaining({ mid: '0', kind: 'audio', payloadType: 111, ssrc: 0x10001, rtxSsrc: 0, cname: 'sfu-cname', direction: 'sendonly' }),
      expect.objectContaining({ mid: '1', kind: 'video', payloadType: 96, rtxPayloadType: 97, ssrc: 0x20001, rtxSsrc: 0x20002, cname: 'sfu-cname', direction: 'sendonly' }),
    ]);
  });

  it('announces no RTX SSRC when rtxSsrc is 0 (retransmissions on the media SSRC)', () => {
    const a = buildAnswer(munged, options({ send: new Map([['1', { ...VIDEO_SEND, rtxSsrc: 0 }]]) }));
    expect(a).not.toContain('a=ssrc-group');
    expect(a.match(/^a=ssrc:.*$/gm)).toEqual(['a=ssrc:131073 cname:sfu-cname', 'a=ssrc:131073 msid:stream-a video-1']);
  });

  it('answers inactive (and announces nothing) on a recvonly mid we have nothing to send on', () => {
    const a = buildAnswer(munged, options({ send: new Map([['1', VIDEO_SEND]]) }));
    const [audio, video] = split(a).sections as [string[], string[]];
    expect(audio).toContain('a=inactive');
    expect(audio.some((l) => /^a=(msid|ssrc)/.test(l))).toBe(false);
    expect(video).toContain('a=sendonly');
    expect(split(a).session).toContain('a=group:BUNDLE 0 1'); // inactive is still accepted and bundled
  });
});

describe('buildAnswer: directions and DTLS roles', () => {
  const dirOf = (a: string, i: number): string | undefined => split(a).sections[i]!.find((l) => /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l));

  it('follows RFC 3264 §6.1, sending only where the offer receives and we have a track', () => {
    const cases: Array<[string, boolean, string]> = [
      ['sendonly', false, 'a=recvonly'],
      ['sendonly', true, 'a=recvonly'],
      ['recvonly', false, 'a=inactive'],
      ['recvonly', true, 'a=sendonly'],
      ['sendrecv', false, 'a=recvonly'],
      ['sendrecv', true, 'a=sendrecv'],
      ['inactive', false, 'a=inactive'],
      ['inactive', true, 'a=inactive'],
    ];
    for (const [offered, sending, expected] of cases) {
      const offer = mungeSubscriberOffer(subscriberOffer([offered, 'recvonly'])).sdp;
      const a = buildAnswer(offer, options(sending ? { send: new Map([['0', AUDIO_SEND]]) } : {}));
      expect(dirOf(a, 0), `${offered} with${sending ? '' : 'out'} a track`).toBe(expected);
      expect(a.includes('a=ssrc:65537'), `${offered} ssrc`).toBe(expected === 'a=sendonly' || expected === 'a=sendrecv');
    }
  });

  it('is passive (DTLS server) for actpass and active offers, active for a passive one', () => {
    for (const [offered, ours] of [
      ['actpass', 'a=setup:passive'],
      ['active', 'a=setup:passive'],
      ['passive', 'a=setup:active'],
    ] as const) {
      const a = buildAnswer(subscriberOffer(['recvonly', 'recvonly'], offered), options());
      expect(a.match(/^a=setup:.*$/gm)).toEqual([ours, ours]);
    }
    // a session-level a=setup counts for sections without their own
    const sessionLevel = subscriberOffer().replace(/a=setup:actpass\r\n/g, '').replace('t=0 0\r\n', 't=0 0\r\na=setup:passive\r\n');
    expect(buildAnswer(sessionLevel, options()).match(/^a=setup:.*$/gm)).toEqual(['a=setup:active', 'a=setup:active']);
  });

  it('reverses the direction of a directional extmap', () => {
    const offer = CHROME_156_PUBLISHER_OFFER.replace(`a=extmap:1 ${RtpExtensionUri.AUDIO_LEVEL}`, `a=extmap:1/sendonly ${RtpExtensionUri.AUDIO_LEVEL}`);
    expect(buildAnswer(mungePublisherOffer(offer).sdp, options())).toContain(`a=extmap:1/recvonly ${RtpExtensionUri.AUDIO_LEVEL}`);
  });
});

describe('buildAnswer: sections we do not serve', () => {
  it('rejects a data channel section: port 0, its mid, out of the BUNDLE group', () => {
    const offer = CHROME_156_PUBLISHER_OFFER.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0 1 2') +
      ['m=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:8K2X', 'a=ice-pwd:xQWkD6qiWg4/FWOvBWsRKTA1', 'a=setup:actpass', 'a=mid:2', 'a=sctp-port:5000', 'a=max-message-size:262144', ''].join('\r\n');
    const a = buildAnswer(mungePublisherOffer(offer).sdp, options());
    const { session, sections } = split(a);
    expect(session).toContain('a=group:BUNDLE 0 1');
    expect(sections[2]).toEqual(['m=application 0 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:2']);
  });

  it('rejects a section the munging left without a codec, and re-tags BUNDLE when it was the tag', () => {
    // Video first and H.264 only (a browser whose VP8 is disabled): the munging marks it inactive with no codec.
    const [head, audio, video] = CHROME_156_PUBLISHER_OFFER.split(/(?=^m=)/m) as [string, string, string];
    const h264Only = video.replace(/^m=video (\d+) (\S+) .*$/m, 'm=video $1 $2 102 103').replace('a=rtpmap:96 VP8/90000', 'a=rtpmap:96 XX/90000').replace('a=mid:1', 'a=mid:0');
    const offer = head.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0 1') + h264Only + audio.replace('a=mid:0', 'a=mid:1');
    const munged = mungePublisherOffer(offer).sdp;
    expect(munged).toContain('m=video 46135 UDP/TLS/RTP/SAVPF 0');
    const a = buildAnswer(munged, options());
    const { session, sections } = split(a);
    expect(session).toContain('a=group:BUNDLE 1');
    expect(sections[0]).toEqual(['m=video 0 UDP/TLS/RTP/SAVPF 0', 'a=mid:0']);
    expect(sections[1]![0]).toBe('m=audio 40000 UDP/TLS/RTP/SAVPF 111');
    expect(sections[1]).toContain('a=candidate:1 1 udp 2130706431 203.0.113.7 40000 typ host'); // the new tag carries them
  });

  it('keeps port 0 for a section the offerer disabled, and rejects one without rtcp-mux', () => {
    const [head, audio, video] = CHROME_156_PUBLISHER_OFFER.split(/(?=^m=)/m) as [string, string, string];
    const disabled = head.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 1') + audio.replace(/^m=audio \d+/m, 'm=audio 0') + video;
    const a = split(buildAnswer(mungePublisherOffer(disabled).sdp, options()));
    expect(a.session).toContain('a=group:BUNDLE 1');
    expect(a.sections[0]).toEqual(['m=audio 0 UDP/TLS/RTP/SAVPF 111', 'a=mid:0']);

    const noMux = head + audio + video.replace('a=rtcp-mux\r\n', '');
    const b = split(buildAnswer(mungePublisherOffer(noMux).sdp, options()));
    expect(b.session).toContain('a=group:BUNDLE 0');
    expect(b.sections[1]![0]).toBe('m=video 0 UDP/TLS/RTP/SAVPF 96 97');
  });

  it('accepts a bundle-only section (port 0 in the BUNDLE group) on the bundle port', () => {
    const [head, audio, video] = CHROME_156_PUBLISHER_OFFER.split(/(?=^m=)/m) as [string, string, string];
    const offer = head + audio + video.replace(/^m=video \d+/m, 'm=video 0').replace('a=mid:1\r\n', 'a=mid:1\r\na=bundle-only\r\n');
    const a = split(buildAnswer(mungePublisherOffer(offer).sdp, options()));
    expect(a.session).toContain('a=group:BUNDLE 0 1');
    expect(a.sections[1]![0]).toBe('m=video 40000 UDP/TLS/RTP/SAVPF 96 97');
    expect(a.sections[1]).not.toContain('a=bundle-only');
  });

  it('accepts only the first section of an offer without BUNDLE, and writes no group then', () => {
    const a = split(buildAnswer(mungePublisherOffer(CHROME_156_PUBLISHER_OFFER.replace('a=group:BUNDLE 0 1\r\n', '')).sdp, options()));
    expect(a.session.some((l) => l.startsWith('a=group:'))).toBe(false);
    expect(a.sections.map((s) => s[0])).toEqual(['m=audio 40000 UDP/TLS/RTP/SAVPF 111', 'm=video 0 UDP/TLS/RTP/SAVPF 96 97']);
  });
});

describe('buildAnswer: candidates and options', () => {
  const munged = mungePublisherOffer(CHROME_156_PUBLISHER_OFFER).sdp;

  it('writes IPv6 connection lines and ranks several candidates in the order given', () => {
    const a = buildAnswer(munged, options({ candidates: [{ ip: '2001:db8::7', port: 40000 }, { ip: '203.0.113.7', port: 40001 }] }));
    expect(a.match(/^c=.*$/gm)).toEqual(['c=IN IP6 2001:db8::7', 'c=IN IP6 2001:db8::7']);
    expect(a.match(/^a=candidate:.*$/gm)).toEqual(['a=candidate:1 1 udp 2130706431 2001:db8::7 40000 typ host', 'a=candidate:2 1 udp 2130706175 203.0.113.7 40001 typ host']);
  });

  it('refuses invalid options and offers it cannot answer', () => {
    expect(() => buildAnswer(munged, options({ fingerprint: 'AB:CD' }))).toThrow(TypeError);
    expect(() => buildAnswer(munged, options({ iceUfrag: 'a b' }))).toThrow(TypeError);
    expect(() => buildAnswer(munged, options({ icePwd: 'short' }))).toThrow(TypeError);
    expect(() => buildAnswer(munged, options({ candidates: [{ ip: '203.0.113.7', port: 0 }] }))).toThrow(TypeError);
    expect(() => buildAnswer(munged, options({ send: new Map([['9', AUDIO_SEND]]) }))).toThrow(/no m-section with mid 9/);
    expect(() => buildAnswer(munged, options({ send: new Map([['0', { ...AUDIO_SEND, cname: 'has space' }]]) }))).toThrow(TypeError);
    expect(() => buildAnswer(munged, options({ send: new Map([['0', { ...AUDIO_SEND, ssrc: 0 }]]) }))).toThrow(TypeError);
    expect(() => buildAnswer(munged, options({ sessionId: 'x' }))).toThrow(TypeError);
    expect(() => buildAnswer(munged.replace(/a=mid:1\r\n/, ''), options())).toThrow(/no a=mid/);
    expect(() => buildAnswer('v=0\r\n', options())).toThrow(/no m-section/);
  });

  it('accepts a lower-case fingerprint and writes it upper-case', () => {
    const fp = randomFingerprint();
    expect(buildAnswer(munged, options({ fingerprint: fp.toLowerCase() }))).toContain(`a=fingerprint:sha-256 ${fp}\r\n`);
  });
});

// ---------------------------------------------------------------------------------------------------------
// libdatachannel 0.24 (node-datachannel 0.33), the bots' stack: real offers, answers applied, ICE and DTLS
// started against an ICE-lite peer on loopback.

function gathered(pc: PeerConnection, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    if (pc.gatheringState() === 'complete') return resolve();
    const t = setTimeout(resolve, timeoutMs);
    pc.onGatheringStateChange((s) => {
      if (s === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

describe('buildAnswer: applied by libdatachannel (node-datachannel)', () => {
  const open: Array<{ close(): void }> = [];
  afterEach(() => {
    for (const x of open.splice(0)) x.close();
  });

  it('publisher bot: accepts the answer, runs ICE against our candidate and starts DTLS as the client', async () => {
    const pc = new PeerConnection('answer-test-pub', { iceServers: [], bindAddress: '127.0.0.1' });
    open.push(pc);
    const v = new Video('v0', 'SendOnly');
    v.addVP8Codec(96);
    v.addRTXCodec(97, 96, 90000);
    v.parseSdpLine(`a=extmap:3 ${RtpExtensionUri.TRANSPORT_CC}`);
    v.parseSdpLine('a=rtcp-fb:96 transport-cc');
    v.addSSRC(0x1111, 'pub-cname', 'pub-stream', 'pub-video');
    v.addSSRC(0x1112, 'pub-cname', 'pub-stream', 'pub-video');
    v.parseSdpLine('a=ssrc-group:FID 4369 4370');
    const a = new Audio('a0', 'SendOnly');
    a.addOpusCodec(111);
    a.parseSdpLine(`a=extmap:1 ${RtpExtensionUri.AUDIO_LEVEL}`);
    a.addSSRC(0x3333, 'pub-cname', 'pub-stream', 'pub-audio');
    const tracks = [pc.addTrack(v), pc.addTrack(a)];
    pc.setLocalDescription();
    await gathered(pc);
    const offer = pc.localDescription()!.sdp;
    const clientUfrag = /^a=ice-ufrag:(\S+)/m.exec(offer)![1]!;

    const { sdp, media } = mungePublisherOffer(offer);
    expect(media.map((m) => [m.mid, m.ssrc, m.rtxSsrc])).toEqual([
      ['v0', 0x1111, 0x1112],
      ['a0', 0x3333, 0],
    ]);
    const ice = newIceCredentials();
    const peer = new IceLitePeer(ice.pwd);
    open.push(peer);
    const port = await peer.listen();
    const answer = buildAnswer(sdp, { iceUfrag: ice.ufrag, icePwd: ice.pwd, fingerprint: randomFingerprint(), candidates: [{ ip: '127.0.0.1', port }] });

    pc.setRemoteDescription(answer, 'answer');
    const remote = pc.remoteDescription()!.sdp;
    expect(remote).toContain('a=ice-lite');
    expect(remote).toContain(`a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`);
    expect(split(remote.replace(/\r?\n/g, '\r\n')).sections.map((s) => [s[0]!.split(' ')[0], s.find((l) => l.startsWith('a=mid:')), s.find((l) => l === 'a=recvonly')])).toEqual([
      ['m=video', 'a=mid:v0', 'a=recvonly'],
      ['m=audio', 'a=mid:a0', 'a=recvonly'],
    ]);
    expect(tracks.map((t) => t.mid())).toEqual(['v0', 'a0']);

    await until(() => peer.verified.length > 0 && peer.other.includes(22), 10_000, 'ICE checks and a DTLS ClientHello');
    expect(peer.verified[0]).toBe(`${ice.ufrag}:${clientUfrag}`);
    expect(peer.unauthenticated).toBe(0);
  });

  it('subscriber bot: takes our SSRCs per mid and a rejected data channel section', async () => {
    const pc = new PeerConnection('answer-test-sub', { iceServers: [], bindAddress: '127.0.0.1' });
    open.push(pc);
    let remoteTracks = 0;
    pc.onTrack(() => remoteTracks++);
    const v = new Video('v0', 'RecvOnly');
    v.addVP8Codec(98);
    v.addRTXCodec(99, 98, 90000);
    v.parseSdpLine(`a=extmap:3 ${RtpExtensionUri.TRANSPORT_CC}`);
    v.parseSdpLine('a=rtcp-fb:98 transport-cc');
    const a = new Audio('a0', 'RecvOnly');
    a.addOpusCodec(109);
    const tracks = [pc.addTrack(v), pc.addTrack(a)];
    const dc = pc.createDataChannel('unused');
    open.unshift(dc);
    pc.setLocalDescription();
    await gathered(pc);
    const offer = pc.localDescription()!.sdp;
    expect(offer).toContain('m=application');

    const { sdp, media } = mungeSubscriberOffer(offer);
    expect(media.map((m) => [m.mid, m.payloadType, m.rtxPayloadType])).toEqual([
      ['v0', 98, 99],
      ['a0', 109, -1],
    ]);
    const ice = newIceCredentials();
    const peer = new IceLitePeer(ice.pwd);
    open.push(peer);
    const port = await peer.listen();
    const send = new Map([
      ['v0', { ...VIDEO_SEND, ssrc: 5555, rtxSsrc: 5556 }],
      ['a0', { ...AUDIO_SEND, ssrc: 7777 }],
    ]);
    const answer = buildAnswer(sdp, { iceUfrag: ice.ufrag, icePwd: ice.pwd, fingerprint: randomFingerprint(), candidates: [{ ip: '127.0.0.1', port }], send });
    expect(split(answer).sections[2]).toEqual([expect.stringMatching(/^m=application 0 UDP\/DTLS\/SCTP webrtc-datachannel$/), expect.stringMatching(/^a=mid:/)]);

    pc.setRemoteDescription(answer, 'answer');
    const remote = split(pc.remoteDescription()!.sdp.replace(/\r?\n/g, '\r\n')).sections;
    const video = remote.find((s) => s.includes('a=mid:v0'))!;
    const audio = remote.find((s) => s.includes('a=mid:a0'))!;
    expect(video).toContain('a=sendonly');
    expect(video).toContain('a=ssrc-group:FID 5555 5556');
    expect(video).toContain('a=ssrc:5555 cname:sfu-cname');
    expect(video).toContain('a=ssrc:5556 msid:stream-a video-1');
    expect(audio).toContain('a=sendonly');
    expect(audio).toContain('a=ssrc:7777 msid:stream-a audio-0');
    expect(remote.find((s) => s[0]!.startsWith('m=application'))![0]).toMatch(/^m=application 0 /);
    expect(tracks.map((t) => [t.mid(), t.direction()])).toEqual([
      ['v0', 'RecvOnly'],
      ['a0', 'RecvOnly'],
    ]);

    await until(() => peer.verified.length > 0 && peer.other.includes(22), 10_000, 'ICE checks and a DTLS ClientHello');
    // libdatachannel fires onTrack only for m-sections the remote side adds; the offerer's own tracks (above)
    // are the ones that receive.
    expect(remoteTracks).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Chromium 156: offers made in a page, answers applied there; ICE and DTLS against an ICE-lite peer.

interface PageOfferSpec {
  transceivers: Array<{ kind: 'audio' | 'video'; direction: RTCRtpTransceiverDirection; h264Only?: boolean; rids?: string[] }>;
  dataChannel?: boolean;
}

interface PageAnswerResult {
  error?: string;
  tracks: Array<{ mid: string | null; stream: string | undefined }>;
  transceivers: Array<{ mid: string | null; currentDirection: string | null }>;
  /** Per transceiver, the rids of its sender's encodings (null: an encoding without rid). */
  encodings: Array<Array<string | null>>;
}

interface PageState {
  pcs: Record<string, RTCPeerConnection & { tracks: PageAnswerResult['tracks'] }>;
}

/** Creates (or renegotiates, when `name` exists) a peer connection in the page and returns its offer. */
function pageOffer(page: Page, name: string, spec: PageOfferSpec): Promise<string> {
  return page.evaluate(
    async ({ name, spec }) => {
      const g = globalThis as unknown as PageState;
      g.pcs ??= {};
      let pc = g.pcs[name];
      if (!pc) {
        pc = Object.assign(new RTCPeerConnection(), { tracks: [] as PageAnswerResult['tracks'] });
        const p = pc;
        pc.ontrack = (e) => p.tracks.push({ mid: e.transceiver.mid, stream: e.streams[0]?.id });
        g.pcs[name] = pc;
      }
      for (const t of spec.transceivers) {
        const sendEncodings = t.rids?.map((rid, i, all) => ({ rid, scaleResolutionDownBy: 2 ** (all.length - 1 - i) }));
        const tr = pc.addTransceiver(t.kind, { direction: t.direction, ...(sendEncodings ? { sendEncodings } : {}) });
        if (t.h264Only) tr.setCodecPreferences(RTCRtpReceiver.getCapabilities(t.kind)!.codecs.filter((c) => /h264|rtx/i.test(c.mimeType)));
      }
      if (spec.dataChannel) pc.createDataChannel('unused');
      await pc.setLocalDescription();
      return pc.localDescription!.sdp;
    },
    { name, spec },
  );
}

function pageAnswer(page: Page, name: string, sdp: string, expectTracks = 0): Promise<PageAnswerResult> {
  return page.evaluate(
    async ({ name, sdp, expectTracks }) => {
      const pc = (globalThis as unknown as PageState).pcs[name]!;
      let error: string | undefined;
      try {
        await pc.setRemoteDescription({ type: 'answer', sdp });
        const end = performance.now() + 5000;
        while (pc.tracks.length < expectTracks && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
      } catch (e) {
        error = String(e);
      }
      return {
        ...(error === undefined ? {} : { error }),
        tracks: [...pc.tracks],
        transceivers: pc.getTransceivers().map((t) => ({ mid: t.mid, currentDirection: t.currentDirection })),
        encodings: pc.getTransceivers().map((t) => t.sender.getParameters().encodings.map((e) => e.rid ?? null)),
      };
    },
    { name, sdp, expectTracks },
  );
}

describe.skipIf(!hasChromium)('buildAnswer: applied by Chromium', () => {
  let browser: Browser;
  let page: Page;
  const peers: IceLitePeer[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless=new', '--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--disable-background-networking'],
    });
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await page.evaluate(() => {
      const g = globalThis as unknown as PageState;
      for (const pc of Object.values(g.pcs ?? {})) pc.close();
      g.pcs = {};
    });
  });

  async function iceLitePeer(): Promise<{ peer: IceLitePeer; opts: AnswerOptions }> {
    const ice = newIceCredentials();
    const peer = new IceLitePeer(ice.pwd);
    peers.push(peer);
    const port = await peer.listen();
    return { peer, opts: { iceUfrag: ice.ufrag, icePwd: ice.pwd, fingerprint: randomFingerprint(), candidates: [{ ip: '127.0.0.1', port }] } };
  }

  it('publisher: applies the answer, nominates our candidate and starts DTLS as the client', async () => {
    const offer = await pageOffer(page, 'pub', {
      transceivers: [
        { kind: 'audio', direction: 'sendonly' },
        { kind: 'video', direction: 'sendonly' },
      ],
    });
    const { peer, opts } = await iceLitePeer();
    const answer = buildAnswer(mungePublisherOffer(offer).sdp, opts);
    const r = await pageAnswer(page, 'pub', answer);
    expect(r.error).toBeUndefined();
    expect(r.transceivers).toEqual([
      { mid: '0', currentDirection: 'sendonly' },
      { mid: '1', currentDirection: 'sendonly' },
    ]);
    await until(() => peer.nominated && peer.other.includes(22), 10_000, 'a nominating check and a DTLS ClientHello');
    expect(peer.verified[0]).toBe(`${opts.iceUfrag}:${/^a=ice-ufrag:(\S+)/m.exec(offer)![1]}`);
    expect(peer.unauthenticated).toBe(0);
  });

  it('subscriber: ontrack fires per sending mid with our msid stream; a mid without a track is inactive; renegotiation adds one', async () => {
    const offer = await pageOffer(page, 'sub', {
      transceivers: [
        { kind: 'audio', direction: 'recvonly' },
        { kind: 'video', direction: 'recvonly' },
        { kind: 'video', direction: 'recvonly' },
      ],
    });
    const { peer, opts } = await iceLitePeer();
    const munged = mungeSubscriberOffer(offer);
    expect(munged.media.map((m) => [m.mid, m.kind, m.rtxPayloadType >= 0])).toEqual([
      ['0', 'audio', false],
      ['1', 'video', true],
      ['2', 'video', true],
    ]);
    const send = new Map<string, SendParameters>([
      ['0', { ...AUDIO_SEND, streamId: 'alice' }],
      ['1', { ...VIDEO_SEND, streamId: 'alice' }],
    ]);
    const base = { ...opts, sessionId: '77', send };
    const r = await pageAnswer(page, 'sub', buildAnswer(munged.sdp, { ...base, sessionVersion: 0 }), 2);
    expect(r.error).toBeUndefined();
    expect(r.tracks).toEqual([
      { mid: '0', stream: 'alice' },
      { mid: '1', stream: 'alice' },
    ]);
    expect(r.transceivers.map((t) => t.currentDirection)).toEqual(['recvonly', 'recvonly', 'inactive']);
    await until(() => peer.nominated && peer.other.includes(22), 10_000, 'a nominating check and a DTLS ClientHello');

    // A new offer on the same connection: one more recvonly video, answered on mid 2 and the new mid.
    const offer2 = await pageOffer(page, 'sub', { transceivers: [{ kind: 'video', direction: 'recvonly' }] });
    const send2 = new Map<string, SendParameters>([
      ...send,
      ['2', { ssrc: 0x30001, cname: 'sfu-cname', streamId: 'bob', trackId: 'video-2' }],
      ['3', { ssrc: 0x40001, rtxSsrc: 0x40002, cname: 'sfu-cname', streamId: 'carol', trackId: 'video-3' }],
    ]);
    const r2 = await pageAnswer(page, 'sub', buildAnswer(mungeSubscriberOffer(offer2).sdp, { ...base, send: send2, sessionVersion: 1 }), 4);
    expect(r2.error).toBeUndefined();
    expect(r2.tracks.slice(2)).toEqual([
      { mid: '2', stream: 'bob' },
      { mid: '3', stream: 'carol' },
    ]);
    expect(r2.transceivers.map((t) => t.currentDirection)).toEqual(['recvonly', 'recvonly', 'recvonly', 'recvonly']);
  });

  it('publisher with simulcast: keeps three encodings with our a=simulcast:recv answer, one without it', async () => {
    const spec: PageOfferSpec = { transceivers: [{ kind: 'video', direction: 'sendonly', rids: ['q', 'h', 'f'] }] };
    const offer = await pageOffer(page, 'simulcast', spec);
    expect(offer).toContain('a=simulcast:send q;h;f');
    const { opts } = await iceLitePeer();
    const r = await pageAnswer(page, 'simulcast', buildAnswer(mungePublisherOffer(offer, { simulcast: true }).sdp, opts));
    expect(r.error).toBeUndefined();
    expect(r.transceivers).toEqual([{ mid: '0', currentDirection: 'sendonly' }]);
    expect(r.encodings).toEqual([['q', 'h', 'f']]);

    const refused = await pageOffer(page, 'no-simulcast', spec);
    const r2 = await pageAnswer(page, 'no-simulcast', buildAnswer(mungePublisherOffer(refused).sdp, (await iceLitePeer()).opts));
    expect(r2.error).toBeUndefined();
    expect(r2.encodings).toEqual([['q']]); // JSEP: without simulcast in the answer only the first encoding is sent
  });

  it('rejects an H.264-only video tag and a data channel, bundling on the audio section that remains', async () => {
    const offer = await pageOffer(page, 'h264', {
      transceivers: [
        { kind: 'video', direction: 'sendonly', h264Only: true },
        { kind: 'audio', direction: 'sendonly' },
      ],
      dataChannel: true,
    });
    const { peer, opts } = await iceLitePeer();
    const answer = buildAnswer(mungePublisherOffer(offer).sdp, opts);
    const { session, sections } = split(answer);
    expect(session).toContain('a=group:BUNDLE 1');
    expect(sections.map((s) => s[0]!.split(' ').slice(0, 2).join(' '))).toEqual(['m=video 0', `m=audio ${opts.candidates[0]!.port}`, 'm=application 0']);
    const r = await pageAnswer(page, 'h264', answer);
    expect(r.error).toBeUndefined();
    expect(r.transceivers).toEqual([{ mid: '1', currentDirection: 'sendonly' }]); // the rejected one is stopped
    await until(() => peer.nominated && peer.other.includes(22), 10_000, 'a nominating check and a DTLS ClientHello');
  });
});
