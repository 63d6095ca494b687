// Shared by the benches: node-datachannel bots (the real peers) and the hand-written ICE-lite answer.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const ndc = require('node-datachannel');

/** A bot with one sendrecv VP8 track; resolves its offer once gathering is complete. */
export async function makeBot(name, ssrc = 1234) {
  const pc = new ndc.PeerConnection(name, { iceServers: [], bindAddress: '127.0.0.1' });
  const v = new ndc.Video('0', 'SendRecv');
  v.addVP8Codec(96);
  v.addSSRC(ssrc, 'bot', 'bot-stream', 'bot-video');
  const track = pc.addTrack(v);
  pc.setLocalDescription();
  await new Promise((resolve) => {
    if (pc.gatheringState() === 'complete') resolve();
    pc.onGatheringStateChange((s) => s === 'complete' && resolve());
  });
  const offer = pc.localDescription().sdp;
  const m = /a=fingerprint:(\S+) (\S+)/.exec(offer);
  return { pc, track, offer, fingerprintAlgorithm: m[1], fingerprint: m[2] };
}

/** The answer an ICE-lite SFU writes for `offer`: one host candidate on 127.0.0.1:port. */
export function answerSdp({ port, ufrag, pwd, fingerprint, setup = 'passive', ssrc = 5678 }) {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=ice-lite',
    'a=msid-semantic: WMS *',
    `m=video ${port} UDP/TLS/RTP/SAVPF 96`,
    'c=IN IP4 127.0.0.1',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:96 VP8/90000',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${pwd}`,
    `a=fingerprint:sha-256 ${fingerprint}`,
    `a=setup:${setup}`,
    `a=ssrc:${ssrc} cname:sfu`,
    `a=candidate:1 1 UDP 2130706431 127.0.0.1 ${port} typ host`,
    'a=end-of-candidates',
    '',
  ].join('\r\n');
}

export function rtpPacket(size, seq, ssrc, pt = 96) {
  const p = Buffer.alloc(size);
  p[0] = 0x80;
  p[1] = pt;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 3000) >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  for (let i = 12; i < size; i++) p[i] = (i * 7 + seq) & 0xff;
  return p;
}
