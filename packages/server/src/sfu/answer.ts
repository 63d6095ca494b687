/**
 * The SFU's SDP answer to a client's offer, written by us now that the native transport (ICE-lite, DTLS, SRTP)
 * replaces libdatachannel. The offer comes munged ({@link mungePublisherOffer} / {@link mungeSubscriberOffer}),
 * so every codec, header extension and feedback type left in it is one we serve: the answer accepts exactly
 * those. Rules: JSEP (RFC 8829 §5.3), BUNDLE (RFC 8843), ICE-lite (RFC 8445 §2.5), DTLS-SRTP (RFC 5763);
 * checked against Chromium 156 and libdatachannel 0.24 (node-datachannel 0.33) in answer.test.ts.
 *
 * Shape of an answer (every line ends with CRLF):
 * - session: `v=0`, `o=- <id> <version> IN IP4 127.0.0.1`, `s=-`, `t=0 0`, `a=group:BUNDLE <accepted mids>`,
 *   `a=ice-lite`, `a=msid-semantic: WMS *`;
 * - per accepted audio/video m-section: the port of our first candidate, `c=`, ICE credentials, fingerprint,
 *   `a=setup`, `a=mid`, the offered `a=extmap`s, the direction, `a=rtcp-mux` (+ `a=rtcp-rsize` when offered),
 *   the offered `a=rtpmap`/`a=fmtp`/`a=rtcp-fb` of the offered payload types, for a simulcast section the
 *   munging kept `a=rid:<id> recv` per offered send rid and `a=simulcast:recv <rids>`, and, on a mid we send on,
 *   our `a=msid`, `a=ssrc-group:FID` and `a=ssrc` lines. Transport attributes are repeated in every accepted
 *   section, as browsers write them; the host candidates and `a=end-of-candidates` are written once, in the
 *   BUNDLE-tagged section (the first of our BUNDLE group), as libdatachannel's own answers did.
 * - per other m-section: rejected, `m=<kind> 0 <proto> <fmt>` and `a=mid` only, left out of the BUNDLE group.
 *
 * @example
 *   const ice = newIceCredentials();
 *   const { sdp, media } = mungeSubscriberOffer(offer);
 *   const answer = buildAnswer(sdp, { iceUfrag: ice.ufrag, icePwd: ice.pwd, fingerprint,
 *     candidates: [{ ip: '203.0.113.7', port: 40000 }],
 *     send: new Map([['0', { ssrc: 1234, rtxSsrc: 1235, cname: 'c', streamId: 's', trackId: 't' }]]) });
 */
import { randomBytes } from 'node:crypto';

/** What the SFU sends on one mid of a subscriber's offer. */
export interface SendParameters {
  /** SSRC of the media stream. */
  ssrc: number;
  /** SSRC of its RTX stream (announced with `a=ssrc-group:FID`) when retransmissions use RTX; 0 or absent: none. */
  rtxSsrc?: number | undefined;
  /** RTCP CNAME. */
  cname: string;
  /** msid stream id: the subscriber's `ontrack` event carries a MediaStream with this id. */
  streamId: string;
  /** msid track id. */
  trackId: string;
}

/** Parameters of {@link buildAnswer}. */
export interface AnswerOptions {
  /** Our ICE username fragment ({@link newIceCredentials}). */
  iceUfrag: string;
  /** Our ICE password. */
  icePwd: string;
  /** SHA-256 fingerprint of our DTLS certificate, "AB:CD:…" (32 hex pairs). */
  fingerprint: string;
  /** Our host candidates (UDP), usually one: the announced address and the worker's port. */
  candidates: ReadonlyArray<{ ip: string; port: number }>;
  /** Per mid: what we send on it (subscriber answers). Absent mid: we only receive on it (publisher answers). */
  send?: ReadonlyMap<string, SendParameters> | undefined;
  /** o= line session id (default: random digits, fixed for a transport by the caller if it wants). */
  sessionId?: string | undefined;
  /** o= line session version (default 0); the caller increments it for each new answer of a session. */
  sessionVersion?: number | undefined;
}

/** The ICE character set (RFC 8445 §5.3: ice-char = ALPHA / DIGIT / "+" / "/"): 64 characters. */
const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ICE_STRING = /^[A-Za-z0-9+/]+$/;

function iceString(length: number): string {
  const bytes = randomBytes(length);
  let s = '';
  // 64 characters: the low 6 bits of a random byte pick one uniformly.
  for (const b of bytes) s += ICE_CHARS[b & 63];
  return s;
}

/**
 * Fresh ICE credentials: an 8-character ufrag (48 random bits; the transport demultiplexes peers by it) and a
 * 24-character password (144 bits; RFC 8445 §5.3 asks for at least 128), cryptographically random.
 */
export function newIceCredentials(): { ufrag: string; pwd: string } {
  return { ufrag: iceString(8), pwd: iceString(24) };
}

/**
 * RFC 8445 §5.1.2.1 priority of our `index`-th host candidate (component 1): type preference 126 (host),
 * local preference 65535 for the first and one less for each next, component 256 − 1.
 */
export function hostCandidatePriority(index: number): number {
  return 126 * 2 ** 24 + (65535 - index) * 2 ** 8 + 255;
}

type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

interface OfferedSection {
  kind: string;
  port: string;
  proto: string;
  fmts: string[];
  mid: string | undefined;
  /** Attribute lines after the m= line. */
  lines: string[];
  direction: Direction;
  /** True when the section carries audio/video with at least one codec (an `a=rtpmap` of a listed format). */
  hasCodec: boolean;
}

const RTP_PROTO = 'UDP/TLS/RTP/SAVPF';
const FINGERPRINT = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/;
/** SDP tokens we write from the caller's values (msid ids, cname): printable, no space. */
const TOKEN = /^[\x21-\x7e]+$/;

function parseOffer(offer: string): { session: string[]; sections: OfferedSection[] } {
  const session: string[] = [];
  const raw: string[][] = [];
  for (const l of offer.split(/\r?\n/)) {
    if (l.length === 0) continue;
    if (l.startsWith('m=')) raw.push([l]);
    else if (raw.length === 0) session.push(l);
    else raw[raw.length - 1]!.push(l);
  }
  const sections = raw.map((lines, i): OfferedSection => {
    const m = /^m=(\S+) (\d+)(?:\/\d+)? (\S+)(?: (.*))?$/.exec(lines[0]!);
    if (!m) throw new TypeError(`offer m-section ${i} has an invalid m= line: ${lines[0]}`);
    const attrs = lines.slice(1);
    const fmts = (m[4] ?? '').split(' ').filter((f) => f.length > 0);
    let direction: Direction = 'sendrecv';
    let mid: string | undefined;
    const mapped = new Set<string>();
    for (const l of attrs) {
      if (l === 'a=sendrecv' || l === 'a=sendonly' || l === 'a=recvonly' || l === 'a=inactive') direction = l.slice(2) as Direction;
      else if (l.startsWith('a=mid:')) mid ??= l.slice('a=mid:'.length);
      else if (l.startsWith('a=rtpmap:')) mapped.add(l.slice('a=rtpmap:'.length, l.indexOf(' ')));
    }
    const kind = m[1]!;
    return {
      kind,
      port: m[2]!,
      proto: m[3]!,
      fmts,
      mid,
      lines: attrs,
      direction,
      hasCodec: (kind === 'audio' || kind === 'video') && fmts.some((f) => mapped.has(f)),
    };
  });
  return { session, sections };
}

/** Our direction for an offered one (RFC 3264 §6.1), sending only where we have something to send. */
function answerDirection(offered: Direction, sending: boolean): Direction {
  switch (offered) {
    case 'sendonly':
      return 'recvonly';
    case 'recvonly':
      return sending ? 'sendonly' : 'inactive';
    case 'sendrecv':
      return sending ? 'sendrecv' : 'recvonly';
    default:
      return 'inactive';
  }
}

/**
 * Our DTLS role (RFC 5763 §5, RFC 8842): passive — the SFU is the DTLS server and the client starts the
 * handshake once it holds this answer — unless the offer insists on being passive itself.
 */
function answerSetup(section: OfferedSection, sessionSetup: string | undefined): 'active' | 'passive' {
  const setup = section.lines.find((l) => l.startsWith('a=setup:'))?.slice('a=setup:'.length) ?? sessionSetup;
  return setup === 'passive' ? 'active' : 'passive';
}

/** An `a=extmap` line as the answerer writes it: a direction on the offer's side reverses. */
function answerExtmap(line: string): string {
  return line.replace(/^(a=extmap:\d+\/)(sendonly|recvonly)\b/, (_m, head: string, dir: string) => head + (dir === 'sendonly' ? 'recvonly' : 'sendonly'));
}

function checkOptions(opts: AnswerOptions): void {
  if (!ICE_STRING.test(opts.iceUfrag) || opts.iceUfrag.length < 4 || opts.iceUfrag.length > 256) {
    throw new TypeError('iceUfrag must be 4–256 ICE characters');
  }
  if (!ICE_STRING.test(opts.icePwd) || opts.icePwd.length < 22 || opts.icePwd.length > 256) {
    throw new TypeError('icePwd must be 22–256 ICE characters');
  }
  if (!FINGERPRINT.test(opts.fingerprint.toUpperCase())) throw new TypeError('fingerprint must be a SHA-256 fingerprint "AB:CD:…"');
  for (const c of opts.candidates) {
    if (!TOKEN.test(c.ip) || !Number.isInteger(c.port) || c.port < 1 || c.port > 65535) {
      throw new TypeError(`invalid candidate ${c.ip}:${c.port}`);
    }
  }
  for (const [mid, s] of opts.send ?? []) {
    for (const ssrc of s.rtxSsrc ? [s.ssrc, s.rtxSsrc] : [s.ssrc]) {
      if (!Number.isInteger(ssrc) || ssrc < 1 || ssrc > 0xffffffff) throw new TypeError(`mid ${mid}: invalid SSRC ${ssrc}`);
    }
    if (!TOKEN.test(s.cname) || !TOKEN.test(s.streamId) || !TOKEN.test(s.trackId)) {
      throw new TypeError(`mid ${mid}: cname, streamId and trackId must be non-empty and without spaces`);
    }
  }
  if (opts.sessionId !== undefined && !/^\d{1,19}$/.test(opts.sessionId)) throw new TypeError('sessionId must be 1–19 digits');
  if (opts.sessionVersion !== undefined && (!Number.isSafeInteger(opts.sessionVersion) || opts.sessionVersion < 0)) {
    throw new TypeError('sessionVersion must be a non-negative integer');
  }
}

/** A random o= session id: 62 random bits in decimal (Chrome's are up to 19 digits, below 2^63). */
function randomSessionId(): string {
  return (randomBytes(8).readBigUInt64BE() >> 2n).toString();
}

/**
 * Writes the SFU's answer to a (munged) client offer. One m-section per offered one, same order, mid and kind.
 * An audio/video section is accepted when it carries a codec, is not disabled (port 0), multiplexes RTCP and is in
 * the offer's BUNDLE group; every other section is rejected (port 0). `send` names the mids we send on (subscriber
 * answers): each must be a mid of the offer; where the offered direction lets us send (recvonly, sendrecv) its
 * SSRCs and msid are announced, elsewhere it is ignored (the offerer stopped receiving on that mid).
 * @throws TypeError on invalid options, an offer m-section without a mid, or a `send` mid absent from the offer.
 */
export function buildAnswer(offer: string, opts: AnswerOptions): string {
  checkOptions(opts);
  const { session, sections } = parseOffer(offer);
  if (sections.length === 0) throw new TypeError('the offer has no m-section');
  const mids = new Set<string>();
  sections.forEach((s, i) => {
    if (s.mid === undefined) throw new TypeError(`offer m-section ${i} has no a=mid`);
    mids.add(s.mid);
  });
  for (const mid of opts.send?.keys() ?? []) if (!mids.has(mid)) throw new TypeError(`the offer has no m-section with mid ${mid}`);

  // The offer's BUNDLE group (the first one: browsers and libdatachannel offer one). We serve one transport,
  // as with bundlePolicy max-bundle (RFC 8829 §5.3.1): a section outside the group of the first one is rejected.
  const group = session
    .find((l) => l.startsWith('a=group:BUNDLE'))
    ?.slice('a=group:BUNDLE'.length)
    .trim()
    .split(/\s+/)
    .filter((m) => m.length > 0);
  const sessionSetup = session.find((l) => l.startsWith('a=setup:'))?.slice('a=setup:'.length);

  // RTP over DTLS-SRTP with a codec (the munging leaves none where it serves none), not disabled, and with
  // RTCP multiplexed (RFC 8843 §9.3: required in a BUNDLE group; we have no separate RTCP port).
  // Port 0 disables a section unless it is `a=bundle-only` (RFC 8843 §6: to be used only within the BUNDLE).
  const servable = (s: OfferedSection): boolean =>
    s.hasCodec && (s.port !== '0' || (s.lines.includes('a=bundle-only') && group !== undefined && group.includes(s.mid!))) && s.proto === RTP_PROTO && s.lines.includes('a=rtcp-mux');
  const accepted = new Set<OfferedSection>();
  if (group && group.length > 0) {
    for (const s of sections) if (servable(s) && group.includes(s.mid!)) accepted.add(s);
    // A section we do not serve is rejected even when it is the offer's BUNDLE tag (the first mid of its
    // group): our group then starts with the next accepted mid, which carries the transport. RFC 8843 §7.3.1
    // has the answerer do exactly this in an initial answer; Chrome's own answers do it, and Chrome 156 and
    // libdatachannel apply them (answer.test.ts). Keeping the tag accepted but inactive is no alternative: the
    // munging leaves such a section no codec (`m=video 9 … 0`, no rtpmap) and Chrome refuses an accepted
    // section without one ("Failed to set remote video description send parameters"). In a renegotiation
    // RFC 8843 §7.3.3 forbids rejecting the tag, but a client only ever offers our codecs again there; a
    // tag it stopped (port 0) is out of its group already.
  } else {
    // No BUNDLE offered: one transport carries one m-section (max-bundle without BUNDLE), the first we serve.
    const first = sections.find(servable);
    if (first) accepted.add(first);
  }

  const v6 = (ip: string): boolean => ip.includes(':');
  const first = opts.candidates[0];
  const port = first?.port ?? 9;
  const connection = first ? `c=IN ${v6(first.ip) ? 'IP6' : 'IP4'} ${first.ip}` : 'c=IN IP4 0.0.0.0';
  const fingerprint = opts.fingerprint.toUpperCase();
  const bundle = sections.filter((s) => accepted.has(s)).map((s) => s.mid!);
  const tagMid = bundle[0];

  const out: string[] = [
    'v=0',
    `o=- ${opts.sessionId ?? randomSessionId()} ${opts.sessionVersion ?? 0} IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
  ];
  if (group && bundle.length > 0) out.push(`a=group:BUNDLE ${bundle.join(' ')}`);
  out.push('a=ice-lite', 'a=msid-semantic: WMS *');

  for (const s of sections) {
    const mid = s.mid!;
    if (!accepted.has(s)) {
      // Rejected (RFC 3264 §6, RFC 8829 §5.3.1): port 0 and the mid, nothing else; the offered formats are
      // kept as they are (an m= line needs at least one).
      out.push(`m=${s.kind} 0 ${s.proto} ${s.fmts.length > 0 ? s.fmts.join(' ') : '0'}`, `a=mid:${mid}`);
      continue;
    }
    const send = opts.send?.get(mid);
    const direction = answerDirection(s.direction, send !== undefined);
    const sending = send !== undefined && (direction === 'sendonly' || direction === 'sendrecv');
    out.push(`m=${s.kind} ${port} ${s.proto} ${s.fmts.join(' ')}`, connection);
    if (mid === tagMid) {
      opts.candidates.forEach((c, i) => out.push(`a=candidate:${i + 1} 1 udp ${hostCandidatePriority(i)} ${c.ip} ${c.port} typ host`));
      out.push('a=end-of-candidates');
    }
    out.push(`a=ice-ufrag:${opts.iceUfrag}`, `a=ice-pwd:${opts.icePwd}`, `a=fingerprint:sha-256 ${fingerprint}`, `a=setup:${answerSetup(s, sessionSetup)}`, `a=mid:${mid}`);
    const fmts = new Set(s.fmts);
    const codecLines: string[] = [];
    const rids = new Set<string>();
    let simulcast: string[] = [];
    let rsize = false;
    for (const l of s.lines) {
      if (l.startsWith('a=extmap:')) out.push(answerExtmap(l));
      else if (l === 'a=rtcp-rsize') rsize = true;
      else if (/^a=(rtpmap|fmtp|rtcp-fb):/.test(l)) {
        const pt = l.slice(l.indexOf(':') + 1, l.indexOf(' '));
        if (fmts.has(pt) || (pt === '*' && l.startsWith('a=rtcp-fb:'))) codecLines.push(l);
      } else if (l.startsWith('a=rid:')) {
        const m = /^a=rid:(\S+) send(?: |$)/.exec(l);
        if (m) rids.add(m[1]!);
      } else if (l.startsWith('a=simulcast:send ')) simulcast = l.slice('a=simulcast:send '.length).trim().split(';');
      // Everything else is the offerer's own (ssrc, msid, candidates, ICE, rtcp-xr…) or not served: not echoed.
    }
    out.push(`a=${direction}`);
    if (sending) out.push(`a=msid:${send.streamId} ${send.trackId}`);
    out.push('a=rtcp-mux');
    if (rsize) out.push('a=rtcp-rsize');
    out.push(...codecLines);
    // Simulcast the munging kept (RFC 8853 §5.3): we receive every offered layer, in the offer's order.
    const layers = simulcast.filter((rid) => rids.has(rid));
    if (layers.length > 0 && direction === 'recvonly') {
      for (const rid of layers) out.push(`a=rid:${rid} recv`);
      out.push(`a=simulcast:recv ${layers.join(';')}`);
    }
    if (sending) {
      const ssrcs = send.rtxSsrc ? [send.ssrc, send.rtxSsrc] : [send.ssrc];
      if (send.rtxSsrc) out.push(`a=ssrc-group:FID ${send.ssrc} ${send.rtxSsrc}`);
      for (const ssrc of ssrcs) out.push(`a=ssrc:${ssrc} cname:${send.cname}`, `a=ssrc:${ssrc} msid:${send.streamId} ${send.trackId}`);
    }
  }
  return out.join('\r\n') + '\r\n';
}
