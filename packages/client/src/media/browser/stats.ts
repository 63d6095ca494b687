/** Sent-media counters of a Publisher, per kind (the reference's `getStats()` shape). */
export interface PublisherStats {
  audio: { bytesSent: number; packetsSent: number; packetsLost: number };
  video: { bytesSent: number; packetsSent: number; packetsLost: number; frameRate: number; framesEncoded: number };
  timestamp: number;
}

/** Received-media counters of a Subscriber, per kind (the reference's `getStats()` shape plus `framesDecoded`). */
export interface SubscriberStats {
  audio: { bytesReceived: number; packetsReceived: number; packetsLost: number; totalSamplesReceived: number };
  video: { bytesReceived: number; packetsReceived: number; packetsLost: number; frameRate: number; framesDecoded: number };
  timestamp: number;
}

type Entry = Record<string, unknown> & { type: string; kind?: string; timestamp: number };
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** Sum `outbound-rtp` (and the SFU's `remote-inbound-rtp` loss) of a publisher's report; simulcast layers add up. */
export function publisherStats(report: RTCStatsReport): PublisherStats {
  const s: PublisherStats = {
    audio: { bytesSent: 0, packetsSent: 0, packetsLost: 0 },
    video: { bytesSent: 0, packetsSent: 0, packetsLost: 0, frameRate: 0, framesEncoded: 0 },
    timestamp: 0,
  };
  report.forEach((e: Entry) => {
    if (e.kind !== 'audio' && e.kind !== 'video') return;
    const k = s[e.kind];
    if (e.type === 'outbound-rtp') {
      k.bytesSent += num(e['bytesSent']);
      k.packetsSent += num(e['packetsSent']);
      if (e.kind === 'video') {
        s.video.frameRate = Math.max(s.video.frameRate, num(e['framesPerSecond']));
        s.video.framesEncoded += num(e['framesEncoded']);
      }
      s.timestamp = Math.max(s.timestamp, e.timestamp);
    } else if (e.type === 'remote-inbound-rtp') {
      k.packetsLost += num(e['packetsLost']);
    }
  });
  return s;
}

/** Sum `inbound-rtp` of a subscriber's report per kind. */
export function subscriberStats(report: RTCStatsReport): SubscriberStats {
  const s: SubscriberStats = {
    audio: { bytesReceived: 0, packetsReceived: 0, packetsLost: 0, totalSamplesReceived: 0 },
    video: { bytesReceived: 0, packetsReceived: 0, packetsLost: 0, frameRate: 0, framesDecoded: 0 },
    timestamp: 0,
  };
  report.forEach((e: Entry) => {
    if (e.type !== 'inbound-rtp' || (e.kind !== 'audio' && e.kind !== 'video')) return;
    const k = s[e.kind];
    k.bytesReceived += num(e['bytesReceived']);
    k.packetsReceived += num(e['packetsReceived']);
    k.packetsLost += num(e['packetsLost']);
    if (e.kind === 'video') {
      s.video.frameRate = Math.max(s.video.frameRate, num(e['framesPerSecond']));
      s.video.framesDecoded += num(e['framesDecoded']);
    } else {
      s.audio.totalSamplesReceived += num(e['totalSamplesReceived']);
    }
    s.timestamp = Math.max(s.timestamp, e.timestamp);
  });
  return s;
}

/** Call `cb(error, value)` if given and return the promise either way (the reference's callback style, plus a Promise). */
export function settle<T>(p: Promise<T>, cb?: (error: Error | undefined, value?: T) => void): Promise<T> {
  if (cb) p.then((v) => cb(undefined, v), (e: Error) => cb(e));
  return p;
}

/** A PNG snapshot of the video's current frame, base64 without the `data:` prefix (empty before the first frame). */
export function snapshot(video: HTMLVideoElement, mirror = false): string {
  const w = video.videoWidth;
  const h = video.videoHeight;
  if (!w || !h) return '';
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return '';
  if (mirror) {
    ctx.translate(w, 0);
    ctx.scale(-1, 1);
  }
  ctx.drawImage(video, 0, 0, w, h);
  return canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}
