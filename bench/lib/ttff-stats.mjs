// Phase split and summary statistics for the time-to-first-frame benchmark.

/**
 * The phases of one run, in order. Each ends at a mark (ms after connect()); a phase lasts from the
 * latest earlier boundary to its own mark, so the phases never go negative and add up to the total.
 */
export const PHASES = [
  { name: 'socketOpen', end: 'wsOpen', what: 'connect() until the WebSocket is open' },
  { name: 'joined', end: 'sessionConnected', what: 'hello + connect request + join answer, until sessionConnected' },
  { name: 'offer', end: 'subscribeSent', what: 'streamCreated, subscribe(), RTCPeerConnection + createOffer + setLocalDescription, until the subscribe request is sent' },
  { name: 'answer', end: 'remoteDescriptionSet', what: 'the SFU builds its transport and answers over the WebSocket; setRemoteDescription done' },
  { name: 'iceConnected', end: 'iceConnected', what: 'ICE checks until iceConnectionState connected' },
  { name: 'dtlsDone', end: 'dtlsConnected', what: 'DTLS handshake until the RTCDtlsTransport is connected' },
  { name: 'keyframeReceived', end: 'firstFrameReceived', what: 'until the last packet of the first frame arrives (requestVideoFrameCallback receiveTime): the SFU sends the keyframe it holds, or asks the publisher for one' },
  { name: 'firstFrame', end: 'firstFrame', what: 'until the first frame is shown (requestVideoFrameCallback expectedDisplayTime): jitter buffer, decode, render' },
];

/** `{ phaseName: ms }` for one run's marks (ms relative to connect()). Missing marks give a null phase. */
export function phasesOf(marks) {
  const out = {};
  let prev = 0;
  for (const p of PHASES) {
    const at = marks[p.end];
    if (typeof at !== 'number') {
      out[p.name] = null;
      continue;
    }
    out[p.name] = round(Math.max(0, at - prev));
    prev = Math.max(prev, at);
  }
  return out;
}

export function median(values) {
  const v = values.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return round(v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2);
}

export function round(x) {
  return Math.round(x * 10) / 10;
}

/** Median of each phase over runs. */
export function medianPhases(runs) {
  const out = {};
  for (const p of PHASES) out[p.name] = median(runs.map((r) => r.phases[p.name]));
  return out;
}
