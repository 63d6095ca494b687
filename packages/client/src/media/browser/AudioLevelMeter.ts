/** A source of audio levels (0..1), read on each tick. */
export interface LevelSource {
  read(): number;
  close(): void;
}

let sharedContext: AudioContext | null = null;

/**
 * One AudioContext for every local meter. Created suspended when the page has had
 * no user gesture; the first click or key press resumes it.
 */
function audioContext(): AudioContext | null {
  if (sharedContext) return sharedContext;
  const Ctor = globalThis.AudioContext;
  if (!Ctor) return null;
  const ctx = new Ctor();
  sharedContext = ctx;
  if (ctx.state === 'suspended') {
    const resume = (): void => {
      void ctx.resume().then(() => {
        if (ctx.state === 'running') for (const t of ['pointerdown', 'keydown'] as const) document.removeEventListener(t, resume, true);
      });
    };
    for (const t of ['pointerdown', 'keydown'] as const) document.addEventListener(t, resume, true);
    resume();
  }
  return ctx;
}

/** Peak level of a local track through a WebAudio AnalyserNode. */
export function analyserLevel(track: MediaStreamTrack): LevelSource | null {
  const ctx = audioContext();
  if (!ctx) return null;
  const src = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  src.connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  return {
    read(): number {
      analyser.getFloatTimeDomainData(buf);
      let peak = 0;
      for (let i = 0; i < buf.length; i++) {
        const v = Math.abs(buf[i] ?? 0);
        if (v > peak) peak = v;
      }
      return Math.min(1, peak);
    },
    close(): void {
      src.disconnect();
      analyser.disconnect();
    },
  };
}

/** Level of a received track from its RTP audio-level header extension (no WebAudio needed). */
export function receiverLevel(receiver: RTCRtpReceiver): LevelSource {
  return {
    read(): number {
      let level = 0;
      for (const s of receiver.getSynchronizationSources()) if ((s.audioLevel ?? 0) > level) level = s.audioLevel ?? 0;
      return level;
    },
    close(): void {},
  };
}

/** Polls a level source every `intervalMs` (60 ms as the reference's examples assume) and reports each value. */
export class AudioLevelMeter {
  #timer: ReturnType<typeof setInterval>;
  #source: LevelSource;

  constructor(source: LevelSource, onLevel: (level: number) => void, intervalMs = 60) {
    this.#source = source;
    this.#timer = setInterval(() => onLevel(source.read()), intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#source.close();
  }
}
