import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { JoinMedia } from './meeting.js';
import { formatKbps, runNetTest, type NetResult } from './netTest.js';
import { OT } from './sdk.js';

type Kind = 'audio' | 'video';

/** A clear sentence for a capture failure (the SDK's OT_* names, or a browser DOMException's). */
function mediaErrorText(kind: Kind, err: unknown): string {
  const what = kind === 'audio' ? 'microphone' : 'camera';
  const name = (err as { name?: string })?.name ?? '';
  if (name === 'OT_USER_MEDIA_ACCESS_DENIED' || name === 'NotAllowedError' || name === 'SecurityError')
    return `Access to the ${what} is blocked. Allow it in your browser's site settings and press "Try again", or join without it.`;
  if (name === 'OT_NO_DEVICES_FOUND' || name === 'OT_CONSTRAINTS_NOT_SATISFIED' || name === 'NotFoundError' || name === 'OverconstrainedError')
    return `No ${what} was found. You can join without one.`;
  if (name === 'OT_HARDWARE_UNAVAILABLE' || name === 'NotReadableError')
    return `The ${what} is in use by another application. Close it and press "Try again", or join without it.`;
  return `The ${what} could not be started (${(err as Error)?.message || name || String(err)}). You can join without it.`;
}

/** One track of one kind, with the SDK's capture helper (the same constraints the Publisher uses). */
async function capture(kind: Kind, deviceId: string): Promise<MediaStreamTrack> {
  const stream =
    kind === 'audio'
      ? await OT.getUserMedia({ audioSource: deviceId || undefined, videoSource: null })
      : await OT.getUserMedia({ audioSource: null, videoSource: deviceId || undefined, resolution: '1280x720' });
  const track = stream.getTracks()[0];
  if (!track) throw Object.assign(new Error(`no ${kind} track`), { name: 'OT_NO_DEVICES_FOUND' });
  return track;
}

/** 0..100 from an analyser's waveform: RMS mapped over -60..0 dBFS. */
function levelOf(analyser: AnalyserNode, buf: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(buf);
  let sum = 0;
  for (let i = 0; i < buf.length; i++) sum += (buf[i] ?? 0) * (buf[i] ?? 0);
  const rms = Math.sqrt(sum / buf.length);
  const db = 20 * Math.log10(rms || 1e-9);
  return Math.round(Math.max(0, Math.min(1, (db + 60) / 60)) * 100);
}

/**
 * Pre-session preview (sessions guide): camera and microphone choice with a live self-view, a
 * microphone level meter, a speaker test and a network test. The captured tracks are handed to
 * the meeting, which publishes them as they are: one permission prompt, the devices chosen here.
 */
export function Preview(props: { sessionName: string; userName: string; canPublish: boolean; mediaSupported: boolean; onJoin: (m: JoinMedia) => void; onBack: () => void }) {
  const wantMedia = props.canPublish && props.mediaSupported;
  const [audio, setAudio] = useState<MediaStreamTrack | null>(null);
  const [video, setVideo] = useState<MediaStreamTrack | null>(null);
  const [errors, setErrors] = useState<Record<Kind, string>>({ audio: '', video: '' });
  const [devices, setDevices] = useState<{ kind: 'audioInput' | 'videoInput' | 'audioOutput'; deviceId: string; label: string }[]>([]);
  const [micId, setMicId] = useState('');
  const [camId, setCamId] = useState('');
  const [speakerId, setSpeakerId] = useState('');
  const [micOn, setMicOn] = useState(true);
  const [camOn, setCamOn] = useState(true);
  const [starting, setStarting] = useState(wantMedia);
  const [net, setNet] = useState<NetResult | null>(null);
  const [netState, setNetState] = useState<'running' | 'done' | 'failed'>('running');
  const [tone, setTone] = useState(false);
  const videoRef = useRef<HTMLVideoElement>(null);
  const meterRef = useRef<HTMLDivElement>(null);
  const handedOver = useRef(false);
  const joinRef = useRef<HTMLButtonElement>(null);
  const tracks = useRef<{ audio: MediaStreamTrack | null; video: MediaStreamTrack | null }>({ audio: null, video: null });

  const replace = (kind: Kind, t: MediaStreamTrack | null): void => {
    const old = tracks.current[kind];
    if (old && old !== t) old.stop();
    tracks.current[kind] = t;
    (kind === 'audio' ? setAudio : setVideo)(t);
  };

  const start = async (kind: Kind, deviceId: string): Promise<void> => {
    try {
      const t = await capture(kind, deviceId);
      replace(kind, t);
      setErrors((e) => ({ ...e, [kind]: '' }));
    } catch (err) {
      replace(kind, null);
      setErrors((e) => ({ ...e, [kind]: mediaErrorText(kind, err) }));
    }
  };

  const refreshDevices = async (): Promise<void> => {
    try {
      // Cameras and microphones from the SDK; speakers (not a publishing concern) from the browser.
      const inputs = await OT.getDevices();
      const outputs = (await navigator.mediaDevices.enumerateDevices())
        .filter((d) => d.kind === 'audiooutput')
        .map((d) => ({ kind: 'audioOutput' as const, deviceId: d.deviceId, label: d.label }));
      setDevices([...inputs.map((d) => ({ kind: d.kind, deviceId: d.deviceId, label: d.label })), ...outputs]);
    } catch {
      setDevices([]);
    }
  };

  const startAll = async (): Promise<void> => {
    setStarting(true);
    await Promise.all([start('audio', micId), start('video', camId)]);
    await refreshDevices();
    setStarting(false);
  };

  // Capture on entry; release on leave unless the tracks went to the meeting.
  useEffect(() => {
    if (wantMedia) void startAll();
    const onChange = (): void => void refreshDevices();
    navigator.mediaDevices?.addEventListener?.('devicechange', onChange);
    return () => {
      navigator.mediaDevices?.removeEventListener?.('devicechange', onChange);
      if (!handedOver.current) for (const t of [tracks.current.audio, tracks.current.video]) t?.stop();
    };
  }, []);

  // Ready: put the keyboard on Join, so Enter joins. A layout effect, so the button is focused in the same
  // task that enables it: an Enter pressed right after it turns enabled joins.
  useLayoutEffect(() => {
    if (!starting) joinRef.current?.focus();
  }, [starting]);

  // Network test against this server, once on entry.
  const testNetwork = (): (() => void) => {
    const ac = new AbortController();
    setNetState('running');
    runNetTest(512 * 1024, ac.signal).then(
      (r) => {
        setNet(r);
        setNetState('done');
      },
      () => {
        if (!ac.signal.aborted) setNetState('failed');
      },
    );
    return () => ac.abort();
  };
  useEffect(() => testNetwork(), []);

  // Self-view.
  useEffect(() => {
    const el = videoRef.current;
    if (el) el.srcObject = video ? new MediaStream([video]) : null;
  }, [video]);
  useEffect(() => {
    if (video) video.enabled = camOn;
  }, [video, camOn]);
  useEffect(() => {
    if (audio) audio.enabled = micOn;
  }, [audio, micOn]);

  // Microphone level meter: an analyser on the live track, drawn at display rate.
  useEffect(() => {
    if (!audio) return;
    const ctx = new AudioContext();
    void ctx.resume().catch(() => {});
    const src = ctx.createMediaStreamSource(new MediaStream([audio]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    src.connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    let raf = 0;
    let last = -1;
    const draw = (): void => {
      const v = micOn ? levelOf(analyser, buf) : 0;
      const el = meterRef.current;
      if (el && v !== last) {
        last = v;
        el.setAttribute('aria-valuenow', String(v));
        el.style.setProperty('--level', `${v}%`);
      }
      raf = requestAnimationFrame(draw);
    };
    draw();
    return () => {
      cancelAnimationFrame(raf);
      void ctx.close();
    };
  }, [audio, micOn]);

  const playTone = async (): Promise<void> => {
    const ctx = new AudioContext();
    const sink = (ctx as AudioContext & { setSinkId?: (id: string) => Promise<void> }).setSinkId;
    if (speakerId && sink) await sink.call(ctx, speakerId).catch(() => {});
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 523.25;
    gain.gain.setValueAtTime(0.0001, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.25, ctx.currentTime + 0.05);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 1.2);
    osc.connect(gain).connect(ctx.destination);
    setTone(true);
    osc.start();
    osc.stop(ctx.currentTime + 1.25);
    osc.onended = () => {
      setTone(false);
      void ctx.close();
    };
  };

  const mics = devices.filter((d) => d.kind === 'audioInput');
  const cams = devices.filter((d) => d.kind === 'videoInput');
  const speakers = devices.filter((d) => d.kind === 'audioOutput');
  const canPickSpeaker = speakers.length > 0 && 'setSinkId' in AudioContext.prototype;

  const join = (e: Event): void => {
    e.preventDefault();
    handedOver.current = true;
    props.onJoin({ audioTrack: tracks.current.audio, videoTrack: tracks.current.video, micOn, camOn });
  };

  const missing = wantMedia && !starting && (!audio || !video);
  return (
    <main class="card preview" aria-labelledby="preview-title">
      <h1 id="preview-title">Ready to join “{props.sessionName}”?</h1>
      {!props.mediaSupported && <p class="alert warn">This browser cannot send video here; you will join without camera and microphone.</p>}
      {props.mediaSupported && !props.canPublish && <p class="alert info">You join as a viewer: you will see and hear the others and can chat.</p>}
      <form onSubmit={join}>
        {wantMedia && (
          <div class="preview-grid">
            <div class="selfview">
              <video ref={videoRef} autoPlay muted playsInline aria-label="Your camera preview" class={camOn && video ? 'mirror' : 'hidden'} />
              {(!video || !camOn) && (
                <div class="avatar big" aria-hidden="true">
                  {initials(props.userName)}
                </div>
              )}
              {starting && <p class="overlay">Starting camera and microphone…</p>}
            </div>
            <div class="devices">
              <div class="row">
                <label for="p-mic">Microphone</label>
                <button type="button" class="toggle" aria-pressed={micOn && !!audio} disabled={!audio} onClick={() => setMicOn(!micOn)}>
                  {micOn && audio ? 'Mic on' : 'Mic off'}
                </button>
              </div>
              <select
                id="p-mic"
                disabled={!audio && mics.length === 0}
                value={micId || audio?.getSettings().deviceId || ''}
                onChange={(e) => {
                  setMicId(e.currentTarget.value);
                  void start('audio', e.currentTarget.value);
                }}
              >
                {mics.length === 0 && <option value="">No microphone</option>}
                {mics.map((d, i) => (
                  <option key={d.deviceId} value={d.deviceId}>
                    {d.label || `Microphone ${i + 1}`}
                  </option>
                ))}
              </select>
              <div
                ref={meterRef}
                class="meter"
                role="meter"
                aria-label="Microphone level"
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={0}
                data-testid="mic-level"
              >
                <span />
              </div>
              {errors.audio && (
                <p class="alert error" role="alert">
                  {errors.audio}
                </p>
              )}

              <div class="row">
                <label for="p-cam">Camera</label>
                <button type="button" class="toggle" aria-pressed={camOn && !!video} disabled={!video} onClick={() => setCamOn(!camOn)}>
                  {camOn && video ? 'Camera on' : 'Camera off'}
                </button>
              </div>
              <select
                id="p-cam"
                disabled={!video && cams.length === 0}
                value={camId || video?.getSettings().deviceId || ''}
                onChange={(e) => {
                  setCamId(e.currentTarget.value);
                  void start('video', e.currentTarget.value);
                }}
              >
                {cams.length === 0 && <option value="">No camera</option>}
                {cams.map((d, i) => (
                  <option key={d.deviceId} value={d.deviceId}>
                    {d.label || `Camera ${i + 1}`}
                  </option>
                ))}
              </select>
              {errors.video && (
                <p class="alert error" role="alert">
                  {errors.video}
                </p>
              )}

              {canPickSpeaker && (
                <>
                  <label for="p-spk">Speaker</label>
                  <select id="p-spk" value={speakerId || speakers[0]?.deviceId} onChange={(e) => setSpeakerId(e.currentTarget.value)}>
                    {speakers.map((d, i) => (
                      <option key={d.deviceId} value={d.deviceId}>
                        {d.label || `Speaker ${i + 1}`}
                      </option>
                    ))}
                  </select>
                </>
              )}
              <button type="button" onClick={() => void playTone()} disabled={tone}>
                {tone ? 'Playing…' : 'Test speaker'}
              </button>
              {missing && (
                <button type="button" onClick={() => void startAll()}>
                  Try again
                </button>
              )}
            </div>
          </div>
        )}
        <section class="network" aria-labelledby="net-title">
          <h2 id="net-title">Network</h2>
          <div role="status" aria-live="polite" data-testid="net-result">
            {netState === 'running' && <p>Testing the connection to the server…</p>}
            {netState === 'failed' && <p class="alert warn">The network test could not reach the server.</p>}
            {netState === 'done' && net && (
              <p class={`strength ${net.strength}`}>
                <span class="bars" aria-hidden="true">
                  <i />
                  <i />
                  <i />
                </span>
                <strong>{net.strength === 'good' ? 'Good' : net.strength === 'fair' ? 'Fair' : 'Poor'} connection</strong>
                <span>
                  {' '}
                  · {net.rttMs} ms round trip · ↓ {formatKbps(net.downKbps)} · ↑ {formatKbps(net.upKbps)}
                </span>
              </p>
            )}
          </div>
          {netState !== 'running' && (
            <button type="button" class="link" onClick={() => testNetwork()}>
              Test again
            </button>
          )}
        </section>
        {missing && <p class="hint">You can join without {!audio && !video ? 'camera and microphone' : !audio ? 'a microphone' : 'a camera'}.</p>}
        <div class="actions">
          <button type="button" onClick={props.onBack}>
            Back
          </button>
          <button ref={joinRef} type="submit" class="primary" disabled={starting}>
            Join
          </button>
        </div>
      </form>
    </main>
  );
}

/** Up to two initials for an avatar. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const s = parts.length > 1 ? (parts[0]![0] ?? '') + (parts[parts.length - 1]![0] ?? '') : (parts[0] ?? '?').slice(0, 2);
  return s.toUpperCase();
}
