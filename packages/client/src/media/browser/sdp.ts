/** Opus fmtp parameters a Publisher may ask for. */
export interface OpusParams {
  /** Send and receive stereo (`stereo=1;sprop-stereo=1`). */
  stereo?: boolean;
  /** `maxaveragebitrate` in bits per second. */
  maxAverageBitrate?: number;
}

/**
 * Add Opus fmtp parameters to every Opus payload type of an SDP (offer or answer).
 * The Session applies it to the publisher's offer and the SFU to its answer when
 * `enableStereo`/`audioBitrate` are set; Chrome only encodes stereo when the answer says so.
 */
export function setOpusParams(sdp: string, params: OpusParams): string {
  const add: Record<string, string> = {};
  if (params.stereo) {
    add['stereo'] = '1';
    add['sprop-stereo'] = '1';
  }
  if (params.maxAverageBitrate) add['maxaveragebitrate'] = String(Math.round(params.maxAverageBitrate));
  if (Object.keys(add).length === 0) return sdp;
  const pts = new Set<string>();
  for (const m of sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000/gim)) pts.add(m[1]!);
  return sdp.replace(/^a=fmtp:(\d+) (.*)$/gm, (line, pt: string, rest: string) => {
    if (!pts.has(pt)) return line;
    const kv = new Map<string, string>();
    for (const part of rest.split(';')) {
      const [k, v] = part.trim().split('=');
      if (k) kv.set(k, v ?? '');
    }
    for (const [k, v] of Object.entries(add)) kv.set(k, v);
    return `a=fmtp:${pt} ${[...kv].map(([k, v]) => `${k}=${v}`).join(';')}`;
  });
}
