/**
 * SDP handling for the SFU: munging a publisher's offer down to what we serve, and reading the parameters we
 * need to forward its media. libdatachannel answers an offer by accepting everything in it, so anything left in
 * the offer is a promise we must keep (DESIGN.md: an offered transport-cc nobody answers collapses Chrome's BWE).
 */

/** Header extensions we accept from publishers, each because we act on it. */
export const RtpExtensionUri = {
  /** We send transport-wide CC feedback built from real arrival times. */
  TRANSPORT_CC: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  /** We read audio levels (active speaker). */
  AUDIO_LEVEL: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  /** BUNDLE demultiplexing by MID. */
  MID: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  /** Simulcast: the rid of a layer's packets (RFC 8852), which tells the layer of an SSRC the SDP does not list. */
  RID: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  /** Simulcast: the rid a retransmission (RTX) stream repairs (RFC 8852). */
  REPAIRED_RID: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
} as const;

/** Extensions only kept in a section whose simulcast we accept. */
const SIMULCAST_EXTENSIONS: ReadonlySet<string> = new Set<string>([RtpExtensionUri.RID, RtpExtensionUri.REPAIRED_RID]);
const PUBLISHER_EXTENSIONS: ReadonlySet<string> = new Set<string>(Object.values(RtpExtensionUri));
/** A rid we accept (RFC 8851 allows alphanumerics, '-' and '_'); short, as it travels in a one-byte extension. */
const RID = /^[A-Za-z0-9_-]{1,16}$/;
/** RTCP feedback we honour from publishers: NACK (we NACK and retransmit), PLI/FIR, transport-cc (we send it). */
const PUBLISHER_FEEDBACK: ReadonlySet<string> = new Set(['nack', 'nack pli', 'ccm fir', 'transport-cc']);
/**
 * Toward subscribers we write no header extension (forwarded packets keep the publisher's elements, under ids
 * the subscriber did not negotiate, so it ignores them) and do no bandwidth estimation yet: no transport-cc,
 * no REMB. We answer NACK (RTX) and PLI/FIR.
 */
const SUBSCRIBER_EXTENSIONS: ReadonlySet<string> = new Set<string>();
const SUBSCRIBER_FEEDBACK: ReadonlySet<string> = new Set(['nack', 'nack pli', 'ccm fir']);

/** Media kinds we forward. */
export type MediaKind = 'audio' | 'video';

/** What the SFU needs to know about one published m-section. */
export interface PublishedMedia {
  /** The m-section's mid. */
  mid: string;
  /** audio or video. */
  kind: MediaKind;
  /** Codec name as in the rtpmap ('VP8', 'opus'). */
  codec: string;
  /** Media payload type. */
  payloadType: number;
  /** RTP clock rate. */
  clockRate: number;
  /** Channels (audio). */
  channels: number;
  /** fmtp parameters of the codec ('' when none). */
  fmtp: string;
  /** RTX payload type, or -1 when RTX is not offered. */
  rtxPayloadType: number;
  /** Media SSRC (0 when the offer lists none). */
  ssrc: number;
  /** RTX SSRC from `a=ssrc-group:FID`, or 0. */
  rtxSsrc: number;
  /** CNAME of the media SSRC ('' when absent). */
  cname: string;
  /** Extension id of transport-cc, or -1. */
  transportCcId: number;
  /** Extension id of the audio level, or -1. */
  audioLevelId: number;
  /** Extension id of the MID (BUNDLE demultiplexing of SSRCs the SDP does not list), or -1. */
  midId: number;
  /**
   * Simulcast: the rids of the layers the publisher sends (`a=rid:<id> send`, in `a=simulcast:send` order, which
   * browsers write lowest layer first). Absent or empty: one stream, known by its SSRC.
   */
  rids?: readonly string[];
  /** Extension id of the rid (RTP stream id), or -1/absent. */
  ridId?: number;
  /** Extension id of the repaired rid (the layer an RTX stream repairs), or -1/absent. */
  repairedRidId?: number;
  /** Whether the publisher accepts generic NACK. */
  nack: boolean;
  /** Direction attribute of the m-section, from the offerer's side. */
  direction: 'sendonly' | 'recvonly' | 'sendrecv' | 'inactive';
  /** True when the m-section is rejected or disabled (port 0). */
  disabled: boolean;
}

/** Codecs we forward, by kind. */
const SERVED_CODECS: Record<MediaKind, string> = { video: 'vp8', audio: 'opus' };

/** Result of {@link mungePublisherOffer}. */
export interface MungedOffer {
  /** The offer with unserved codecs, extensions and feedback removed. */
  sdp: string;
  /** One entry per audio/video m-section that still carries a codec we serve. */
  media: PublishedMedia[];
}

interface Section {
  lines: string[];
}

function splitSections(sdp: string): { session: string[]; sections: Section[] } {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  const session: string[] = [];
  const sections: Section[] = [];
  for (const l of lines) {
    if (l.startsWith('m=')) sections.push({ lines: [l] });
    else if (sections.length === 0) session.push(l);
    else sections[sections.length - 1]!.lines.push(l);
  }
  return { session, sections };
}

function attr(line: string, name: string): string | undefined {
  const prefix = `a=${name}:`;
  return line.startsWith(prefix) ? line.slice(prefix.length) : undefined;
}

/** Options of {@link mungePublisherOffer}. */
export interface PublisherOfferOptions {
  /**
   * Accept simulcast (`a=rid` / `a=simulcast:send` and the rid header extensions). Only when the transport
   * delivers packets of SSRCs the SDP does not list (the native one routes them by MID): browsers announce no
   * SSRC for simulcast layers. Default false: the lines are removed and the browser sends one encoding.
   */
  simulcast?: boolean;
}

/**
 * Keeps, per audio/video m-section, only the codec we serve (VP8 / Opus) and its RTX, the header extensions we
 * act on and the RTCP feedback we honour, and reads what the SFU needs to forward each published track.
 * Sections with nothing we serve are marked inactive (port 0 is not used: the answer must keep the BUNDLE).
 * With `simulcast`, a video section's send rids are kept (`a=rid:<id> send`, `a=simulcast:send`) and listed in
 * its `rids`.
 * @example
 *   const { sdp, media } = mungePublisherOffer(offerFromBrowser, { simulcast: true });
 *   pc.setRemoteDescription(sdp, 'offer');
 */
export function mungePublisherOffer(offer: string, options: PublisherOfferOptions = {}): MungedOffer {
  return mungeOffer(offer, PUBLISHER_EXTENSIONS, PUBLISHER_FEEDBACK, options.simulcast === true);
}

/**
 * Munges a subscriber's offer (recvonly m-sections) the same way, keeping no header extension and no
 * congestion-control feedback (see SUBSCRIBER_FEEDBACK). `media` tells, per mid, the payload types the
 * subscriber chose for the codec and its RTX.
 */
export function mungeSubscriberOffer(offer: string): MungedOffer {
  return mungeOffer(offer, SUBSCRIBER_EXTENSIONS, SUBSCRIBER_FEEDBACK, false);
}

/**
 * The send rids of a section's `a=simulcast` line whose `a=rid:<id> send` lines exist, in the line's order
 * (RFC 8853 §5.1: `;` separates streams, `,` alternatives, of which we take the first; `~` marks a paused one).
 */
function simulcastSendRids(lines: readonly string[]): string[] {
  const line = lines.map((l) => attr(l, 'simulcast')).find((v) => v !== undefined);
  if (line === undefined) return [];
  const parts = line.trim().split(/\s+/);
  const i = parts.indexOf('send');
  if (i < 0 || parts[i + 1] === undefined) return [];
  const declared = new Set<string>();
  for (const l of lines) {
    const r = attr(l, 'rid');
    const m = r === undefined ? null : /^(\S+) send(?: |$)/.exec(r);
    if (m) declared.add(m[1]!);
  }
  const rids: string[] = [];
  for (const stream of parts[i + 1]!.split(';')) {
    const rid = stream.split(',')[0]!.replace(/^~/, '');
    if (RID.test(rid) && declared.has(rid) && !rids.includes(rid)) rids.push(rid);
  }
  return rids;
}

function mungeOffer(offer: string, extensions: ReadonlySet<string>, feedback: ReadonlySet<string>, simulcast: boolean): MungedOffer {
  const { session, sections } = splitSections(offer);
  const media: PublishedMedia[] = [];
  const out: string[] = [...session];
  for (const s of sections) {
    const m = /^m=(\S+) (\S+) (\S+) (.*)$/.exec(s.lines[0]!);
    const kind = m?.[1];
    if (!m || (kind !== 'audio' && kind !== 'video')) {
      out.push(...s.lines);
      continue;
    }
    const rtpmap = new Map<number, { name: string; clock: number; channels: number }>();
    const apt = new Map<number, number>(); // rtx pt -> apt
    const fmtp = new Map<number, string>();
    let fid: [number, number] | undefined;
    let firstSsrc = 0;
    const cnames = new Map<number, string>();
    for (const l of s.lines) {
      const g = attr(l, 'ssrc-group');
      if (g?.startsWith('FID ')) {
        const parts = g.split(' ');
        if (parts.length >= 3) fid = [Number(parts[1]), Number(parts[2])];
      }
      const ss = attr(l, 'ssrc');
      if (ss !== undefined) {
        const sm = /^(\d+) (\S+?)(?::(.*))?$/.exec(ss);
        if (sm) {
          if (firstSsrc === 0) firstSsrc = Number(sm[1]);
          if (sm[2] === 'cname') cnames.set(Number(sm[1]), sm[3] ?? '');
        }
      }
      const r = attr(l, 'rtpmap');
      if (r) {
        const mm = /^(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?/.exec(r);
        if (mm) rtpmap.set(Number(mm[1]), { name: mm[2]!, clock: Number(mm[3]), channels: Number(mm[4] ?? 1) });
      }
      const f = attr(l, 'fmtp');
      if (f) {
        const sp = f.indexOf(' ');
        const pt = Number(f.slice(0, sp));
        const params = f.slice(sp + 1);
        fmtp.set(pt, params);
        const a = /(?:^|;)\s*apt=(\d+)/.exec(params);
        if (a) apt.set(pt, Number(a[1]));
      }
    }
    const offeredPts = m[4]!.split(' ').map(Number);
    let pt = -1;
    for (const p of offeredPts) {
      const r = rtpmap.get(p);
      if (r && r.name.toLowerCase() === SERVED_CODECS[kind]) {
        pt = p;
        break;
      }
    }
    let rtxPt = -1;
    if (pt >= 0) for (const [r, a] of apt) if (a === pt && rtpmap.get(r)?.name.toLowerCase() === 'rtx') rtxPt = r;
    const keep = new Set<number>();
    if (pt >= 0) keep.add(pt);
    if (rtxPt >= 0) keep.add(rtxPt);

    const mid = s.lines.map((l) => attr(l, 'mid')).find((v) => v !== undefined) ?? '';
    // Simulcast needs the rid extension: a layer's SSRC is learnt from it.
    let rids = simulcast && kind === 'video' && pt >= 0 ? simulcastSendRids(s.lines) : [];
    if (!s.lines.some((l) => /^a=extmap:\d+(?:\/\S+)? (\S+)/.exec(l)?.[1] === RtpExtensionUri.RID)) rids = [];
    const info: PublishedMedia = {
      mid,
      kind,
      codec: pt >= 0 ? rtpmap.get(pt)!.name : '',
      payloadType: pt,
      clockRate: pt >= 0 ? rtpmap.get(pt)!.clock : 0,
      channels: pt >= 0 ? rtpmap.get(pt)!.channels : 0,
      fmtp: pt >= 0 ? (fmtp.get(pt) ?? '') : '',
      rtxPayloadType: rtxPt,
      ssrc: fid ? fid[0] : firstSsrc,
      rtxSsrc: fid && rtxPt >= 0 ? fid[1] : 0,
      cname: '',
      transportCcId: -1,
      audioLevelId: -1,
      midId: -1,
      rids,
      ridId: -1,
      repairedRidId: -1,
      nack: false,
      direction: 'sendrecv',
      disabled: m[2] === '0',
    };
    const kept: string[] = [`m=${kind} ${m[2]} ${m[3]} ${pt >= 0 ? [...keep].join(' ') : '0'}`];
    for (const l of s.lines.slice(1)) {
      const ext = attr(l, 'extmap');
      if (ext !== undefined) {
        const em = /^(\d+)(?:\/\S+)? (\S+)/.exec(ext);
        if (!em || !extensions.has(em[2]!)) continue;
        if (SIMULCAST_EXTENSIONS.has(em[2]!) && rids.length === 0) continue;
        const id = Number(em[1]);
        if (em[2] === RtpExtensionUri.TRANSPORT_CC) info.transportCcId = id;
        if (em[2] === RtpExtensionUri.AUDIO_LEVEL) info.audioLevelId = id;
        if (em[2] === RtpExtensionUri.MID) info.midId = id;
        if (em[2] === RtpExtensionUri.RID) info.ridId = id;
        if (em[2] === RtpExtensionUri.REPAIRED_RID) info.repairedRidId = id;
        kept.push(l);
        continue;
      }
      const fb = attr(l, 'rtcp-fb');
      if (fb !== undefined) {
        const sp = fb.indexOf(' ');
        const fbPt = fb.slice(0, sp);
        const what = fb.slice(sp + 1);
        if (!(fbPt === '*' || keep.has(Number(fbPt))) || !feedback.has(what)) continue;
        if (what === 'nack' && Number(fbPt) === pt) info.nack = true;
        kept.push(l);
        continue;
      }
      const r = attr(l, 'rtpmap') ?? attr(l, 'fmtp');
      if (r !== undefined) {
        if (keep.has(Number(r.slice(0, r.indexOf(' '))))) kept.push(l);
        continue;
      }
      const g = attr(l, 'ssrc-group');
      if (g !== undefined) {
        if (g.startsWith('FID ') && info.rtxSsrc === 0) continue; // RTX not accepted
        kept.push(l);
        continue;
      }
      const ss = attr(l, 'ssrc');
      if (ss !== undefined) {
        const ssrc = Number(ss.slice(0, ss.indexOf(' ')));
        if (fid && ssrc === fid[1] && info.rtxSsrc === 0) continue; // SSRC of the RTX we do not accept
        kept.push(l);
        continue;
      }
      // Simulcast we accept: the send rids, without restrictions (they could name payload types removed above).
      // Otherwise none: the browser then sends one encoding (the first), with a=ssrc lines.
      const rid = attr(l, 'rid');
      if (rid !== undefined) {
        const id = rid.split(' ')[0]!;
        if (rids.includes(id)) kept.push(`a=rid:${id} send`);
        continue;
      }
      if (attr(l, 'simulcast') !== undefined) {
        if (rids.length > 0) kept.push(`a=simulcast:send ${rids.join(';')}`);
        continue;
      }
      if (l === 'a=sendonly' || l === 'a=recvonly' || l === 'a=sendrecv' || l === 'a=inactive') {
        info.direction = l.slice(2) as PublishedMedia['direction'];
        if (pt < 0 && l !== 'a=inactive') {
          kept.push('a=inactive');
          continue;
        }
      }
      kept.push(l);
    }
    info.cname = cnames.get(info.ssrc) ?? '';
    if (info.ssrc !== 0 && info.rtxSsrc === 0 && rtxPt >= 0 && rids.length === 0) {
      // RTX offered without an FID group: we cannot tell its SSRC, so do not accept RTX. (Simulcast layers name
      // theirs with the repaired-rid extension.)
      const i = kept.findIndex((l) => l.startsWith(`a=rtpmap:${rtxPt} `));
      if (i >= 0) {
        kept[0] = kept[0]!.replace(new RegExp(` ${rtxPt}(?= |$)`), '');
        for (let k = kept.length - 1; k >= 0; k--) if (new RegExp(`^a=(rtpmap|fmtp|rtcp-fb):${rtxPt} `).test(kept[k]!)) kept.splice(k, 1);
      }
      info.rtxPayloadType = -1;
    }
    out.push(...kept);
    if (pt >= 0) media.push(info);
  }
  // Browsers announce no SSRC (hence no CNAME) for simulcast layers: the publisher's CNAME is the other tracks'.
  const cname = media.find((m) => m.cname !== '')?.cname ?? '';
  for (const m of media) if (m.cname === '') m.cname = cname;
  return { sdp: out.join('\r\n') + '\r\n', media };
}

/**
 * Writes `announced` (the public address of a server behind NAT) into every host candidate and the connection
 * lines. libdatachannel lists the interface address it bound (with `0.0.0.0`: each interface's), which clients
 * outside cannot reach; candidates that become identical are listed once.
 */
export function announceAddress(sdp: string, announced: string): string {
  if (!announced) return sdp;
  const v6 = announced.includes(':');
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of sdp.split(/\r?\n/)) {
    if (l.startsWith('a=candidate:')) {
      const parts = l.split(' ');
      if (parts[7] === 'host' && parts[4] !== undefined) {
        if (parts[4].includes(':') !== v6) continue; // other address family: unreachable as announced
        parts[4] = announced;
        const key = `${parts[2]} ${parts[4]} ${parts[5]}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(parts.join(' '));
        continue;
      }
    }
    if (l.startsWith('c=IN IP')) {
      out.push(`c=IN ${v6 ? 'IP6' : 'IP4'} ${announced}`);
      continue;
    }
    out.push(l);
  }
  return out.join('\r\n');
}

/**
 * Makes the peer the DTLS client: rewrites `a=setup:actpass` to `a=setup:active` in its offer, so that
 * libdatachannel answers `a=setup:passive`. The peer then starts the handshake only once it has our answer,
 * whereas a libdatachannel DTLS client starts as soon as ICE connects — before the peer has the answer with our
 * fingerprint — and the lost first flight costs a 1 s retransmission (measured on loopback).
 */
export function preferRemoteDtlsClient(offer: string): string {
  return offer.replace(/^a=setup:actpass$/gm, 'a=setup:active');
}

/**
 * Adds, after each host candidate, the same address at `port` (the worker's {@link TiebreakerProxy}) with the
 * local preference cleared, so that it ranks below the SFU port itself: only peers whose checks the SFU port
 * refuses end up using it.
 */
export function addProxyCandidates(sdp: string, port: number): string {
  const out: string[] = [];
  for (const l of sdp.split(/\r?\n/)) {
    out.push(l);
    const parts = l.startsWith('a=candidate:') ? l.split(' ') : undefined;
    if (!parts || parts[7] !== 'host' || parts[2]?.toLowerCase() !== 'udp' || parts.length < 8) continue;
    const priority = Number(parts[3]);
    let lower = (priority & 0xff0000ff) >>> 0;
    if (lower >= priority) lower = Math.max(1, priority - 1);
    out.push([`a=candidate:p${parts[0]!.slice('a=candidate:'.length)}`, parts[1], parts[2], String(lower), parts[4], String(port), 'typ', 'host'].join(' '));
  }
  return out.join('\r\n');
}
