// SDP edits for the Node media peer: keep only what it serves (VP8, Opus, abs-capture-time).

import { ABS_CAPTURE_TIME_URI } from './rtp.js';

/** Header extensions the Node peer understands; others are removed from remote offers. */
const KEPT_EXTENSIONS = new Set(['urn:ietf:params:rtp-hdrext:sdes:mid', ABS_CAPTURE_TIME_URI]);

/** Codec kept per media kind. */
const KEPT_CODEC: Record<string, string> = { video: 'vp8', audio: 'opus' };

/** One m= section of an SDP, with its lines. */
interface Section {
  lines: string[];
}

function split(sdp: string): { session: string[]; media: Section[] } {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  const session: string[] = [];
  const media: Section[] = [];
  for (const l of lines) {
    if (l.startsWith('m=')) media.push({ lines: [l] });
    else if (media.length === 0) session.push(l);
    else (media[media.length - 1] as Section).lines.push(l);
  }
  return { session, media };
}

/**
 * Rewrites a remote offer so the answer libdatachannel generates accepts only what the Node
 * peer serves: VP8 for video and Opus for audio (RTX, RED, FEC and other codecs removed),
 * no transport-cc (we send no transport-wide feedback; offering it and staying silent makes
 * Chrome's bandwidth estimate collapse), and only the mid and abs-capture-time extensions.
 */
export function restrictOffer(sdp: string): string {
  const { session, media } = split(sdp);
  const out = [...session];
  for (const m of media) {
    const head = m.lines[0] as string;
    const [mline, kind = ''] = [head, head.slice(2).split(' ')[0] ?? ''];
    const keep = KEPT_CODEC[kind];
    if (keep === undefined) {
      out.push(...m.lines);
      continue;
    }
    const kept = new Set<string>();
    for (const l of m.lines) {
      const r = /^a=rtpmap:(\d+) ([^/]+)\//.exec(l);
      if (r && (r[2] ?? '').toLowerCase() === keep) kept.add(r[1] as string);
    }
    const rtxSsrcs = new Set<string>();
    for (const l of m.lines) {
      const g = /^a=ssrc-group:FID (\d+) (\d+)/.exec(l);
      if (g) rtxSsrcs.add(g[2] as string);
    }
    const parts = mline.split(' ');
    const fmts = parts.slice(3).filter((pt) => kept.has(pt));
    out.push([...parts.slice(0, 3), ...(fmts.length > 0 ? fmts : parts.slice(3, 4))].join(' '));
    for (const l of m.lines.slice(1)) {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+|\*)/.exec(l)?.[1];
      if (pt !== undefined && pt !== '*' && !kept.has(pt)) continue;
      if (/^a=rtcp-fb:\S+ transport-cc/.test(l)) continue;
      const ext = /^a=extmap:\d+(?:\/\w+)? (\S+)/.exec(l);
      if (ext && !KEPT_EXTENSIONS.has(ext[1] as string)) continue;
      if (l.startsWith('a=ssrc-group:FID')) continue;
      const ssrc = /^a=ssrc:(\d+) /.exec(l)?.[1];
      if (ssrc !== undefined && rtxSsrcs.has(ssrc)) continue;
      out.push(l);
    }
  }
  return out.join('\r\n') + '\r\n';
}

/** Per mid: kind, media payload types and the abs-capture-time extension id, read from an SDP. */
export function describeMedia(sdp: string): Map<string, { kind: string; payloadTypes: number[]; absCaptureTimeId: number | null }> {
  const result = new Map<string, { kind: string; payloadTypes: number[]; absCaptureTimeId: number | null }>();
  const { media } = split(sdp);
  media.forEach((m, index) => {
    const head = m.lines[0] as string;
    const kind = head.slice(2).split(' ')[0] ?? '';
    let mid = String(index);
    let absCaptureTimeId: number | null = null;
    const payloadTypes: number[] = [];
    const keep = KEPT_CODEC[kind];
    for (const l of m.lines) {
      const midMatch = /^a=mid:(\S+)/.exec(l);
      if (midMatch) mid = midMatch[1] as string;
      const ext = /^a=extmap:(\d+)(?:\/\w+)? (\S+)/.exec(l);
      if (ext && ext[2] === ABS_CAPTURE_TIME_URI) absCaptureTimeId = Number(ext[1]);
      const r = /^a=rtpmap:(\d+) ([^/]+)\//.exec(l);
      if (r && (keep === undefined || (r[2] ?? '').toLowerCase() === keep)) payloadTypes.push(Number(r[1]));
    }
    result.set(mid, { kind, payloadTypes, absCaptureTimeId });
  });
  return result;
}
