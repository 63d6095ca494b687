import type { VideoType } from '@convene/protocol';
import { fromCaptureError, mediaError, MediaErrorName } from './mediaErrors.js';
import type { PublisherProperties } from './types.js';

/** What the capture layer got: one stream holding at most one audio and one video track. */
export interface Capture {
  stream: MediaStream;
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  videoType: VideoType | null;
}

/** Hooks the Publisher uses to dispatch `accessDialogOpened`/`accessDialogClosed`. */
export interface CaptureHooks {
  dialog?: (open: boolean) => void;
}

const SCREEN_SOURCES = new Set(['screen', 'window', 'application', 'browser']);

/** `'1280x720'` -> `{ width: 1280, height: 720 }`; throws OT_INVALID_PARAMETER otherwise. */
export function parseResolution(r: string | undefined): { width: number; height: number } {
  const m = /^(\d{2,5})x(\d{2,5})$/.exec(r ?? '640x480');
  if (!m) throw mediaError(MediaErrorName.InvalidParameter, `Invalid resolution "${String(r)}": use "WIDTHxHEIGHT", e.g. "1280x720"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function frameRateOf(p: PublisherProperties): number {
  const f = p.frameRate ?? 30;
  if (typeof f !== 'number' || !(f > 0 && f <= 60)) throw mediaError(MediaErrorName.InvalidParameter, `Invalid frameRate ${String(f)}: use 30, 15, 7 or 1`);
  return f;
}

/** Whether the properties ask for a screen share. */
export function isScreenSource(p: PublisherProperties): boolean {
  return typeof p.videoSource === 'string' && SCREEN_SOURCES.has(p.videoSource);
}

/** The getUserMedia audio constraints the properties describe (false: no audio from a device). */
export function audioConstraints(p: PublisherProperties, deviceId?: string): MediaTrackConstraints | false {
  const src = deviceId ?? p.audioSource;
  if (src === null || src === false || src === 'screen' || src instanceof MediaStreamTrackCtor()) return false;
  const processing = !(p.disableAudioProcessing ?? false) && !(p.enableStereo ?? false);
  const c: MediaTrackConstraints = {
    echoCancellation: p.echoCancellation ?? processing,
    noiseSuppression: p.noiseSuppression ?? processing,
    autoGainControl: p.autoGainControl ?? processing,
  };
  if (p.enableStereo) c.channelCount = 2;
  if (typeof src === 'string' && src !== '') c.deviceId = { exact: src };
  return c;
}

/** The getUserMedia video constraints for a camera (false: no camera). */
export function videoConstraints(p: PublisherProperties, deviceId?: string): MediaTrackConstraints | false {
  const src = deviceId ?? p.videoSource;
  if (src === null || src === false || src instanceof MediaStreamTrackCtor() || isScreenSource(p)) return false;
  const { width, height } = parseResolution(p.resolution);
  const c: MediaTrackConstraints = { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: frameRateOf(p) } };
  if (typeof src === 'string' && src !== '') c.deviceId = { exact: src };
  return c;
}

// `MediaStreamTrack` is missing outside browsers: only compare against it where it exists.
function MediaStreamTrackCtor(): typeof MediaStreamTrack {
  return (globalThis.MediaStreamTrack ?? class {}) as typeof MediaStreamTrack;
}

function mediaDevices(): MediaDevices {
  const md = globalThis.navigator?.mediaDevices;
  if (!md?.getUserMedia) throw mediaError(MediaErrorName.NotSupported, 'This browser cannot capture media (navigator.mediaDevices is missing; is the page served over https?)');
  return md;
}

async function permissionPending(kinds: Array<'camera' | 'microphone'>): Promise<boolean> {
  try {
    for (const name of kinds) {
      const s = await navigator.permissions.query({ name: name as PermissionName });
      if (s.state === 'prompt') return true;
    }
  } catch {
    // Permissions API without camera/microphone (Firefox, Safari): cannot tell, assume no dialog.
  }
  return false;
}

/**
 * Capture the tracks the Publisher properties ask for: cameras and microphones with
 * one getUserMedia call (one prompt), screens with getDisplayMedia, tracks as given.
 * Rejects with the reference's error names.
 */
export async function capture(p: PublisherProperties, hooks: CaptureHooks = {}): Promise<Capture> {
  const screen = isScreenSource(p);
  const Track = MediaStreamTrackCtor();
  let audio: MediaStreamTrack | null = p.audioSource instanceof Track ? p.audioSource : null;
  let video: MediaStreamTrack | null = p.videoSource instanceof Track ? p.videoSource : null;
  let videoType: VideoType | null = video ? 'custom' : null;
  const a = audioConstraints(p);
  const v = videoConstraints(p);
  if (!a && !v && !audio && !video && !screen) {
    throw mediaError(MediaErrorName.InvalidParameter, 'audioSource and videoSource are both null: nothing to publish');
  }
  const owned: MediaStreamTrack[] = [];
  try {
    if (screen) {
      const md = globalThis.navigator?.mediaDevices;
      if (!md?.getDisplayMedia) throw mediaError(MediaErrorName.ScreenSharingNotSupported, 'Screen sharing is not supported by this browser');
      const max = p.maxResolution;
      const constraints: MediaTrackConstraints = { frameRate: { ideal: p.frameRate ?? 15 } };
      if (max) Object.assign(constraints, { width: { max: max.width }, height: { max: max.height } });
      let display: MediaStream;
      try {
        // audioSource 'screen': the shared tab's or system's audio, where the browser offers it.
        display = await md.getDisplayMedia({ video: constraints, audio: p.audioSource === 'screen' });
      } catch (err) {
        throw fromCaptureError(err, true);
      }
      video = display.getVideoTracks()[0] ?? null;
      if (video) owned.push(video);
      const sharedAudio = display.getAudioTracks()[0];
      if (sharedAudio) owned.push((audio = sharedAudio));
      videoType = 'screen';
    }
    if (a || v) {
      const md = mediaDevices();
      const kinds: Array<'camera' | 'microphone'> = [];
      if (a) kinds.push('microphone');
      if (v) kinds.push('camera');
      const dialog = hooks.dialog && (await permissionPending(kinds));
      if (dialog) hooks.dialog?.(true);
      let got: MediaStream;
      try {
        got = await md.getUserMedia({ audio: a, video: v });
      } catch (err) {
        throw fromCaptureError(err, false);
      } finally {
        if (dialog) hooks.dialog?.(false);
      }
      const ga = got.getAudioTracks()[0];
      const gv = got.getVideoTracks()[0];
      if (ga) owned.push((audio = ga));
      if (gv) {
        owned.push((video = gv));
        videoType = 'camera';
      }
    }
  } catch (err) {
    for (const t of owned) t.stop();
    throw err;
  }
  const stream = new MediaStream();
  if (audio) stream.addTrack(audio);
  if (video) stream.addTrack(video);
  return { stream, audio, video, videoType };
}

/** A camera or microphone, as `OT.getDevices()` reports it. */
export interface Device {
  kind: 'audioInput' | 'videoInput';
  deviceId: string;
  label: string;
  groupId: string;
}

/** List cameras and microphones (labels are empty until the user has granted access once). */
export async function listDevices(): Promise<Device[]> {
  const all = await mediaDevices().enumerateDevices();
  const out: Device[] = [];
  for (const d of all) {
    if (d.kind === 'audioinput' || d.kind === 'videoinput') {
      out.push({ kind: d.kind === 'audioinput' ? 'audioInput' : 'videoInput', deviceId: d.deviceId, label: d.label, groupId: d.groupId });
    }
  }
  return out;
}
