import { capture, listDevices, type Device } from './capture.js';
import { settle } from './stats.js';
import type { PublisherProperties } from './types.js';

/**
 * List cameras and microphones as `OT.getDevices()`: `cb(error, devices)`, each
 * `{ kind: 'audioInput' | 'videoInput', deviceId, label }`. Also returns a Promise.
 * @example
 * getDevices((err, devices) => devices?.filter((d) => d.kind === 'videoInput').forEach(addOption));
 */
export function getDevices(cb?: (error: Error | undefined, devices?: Device[]) => void): Promise<Device[]> {
  return settle(listDevices(), cb);
}

/**
 * Capture a MediaStream with the Publisher's source properties (`audioSource`,
 * `videoSource`, `resolution`, `frameRate`, ...), e.g. for a preview or to pass
 * its tracks to `initPublisher`. Rejects with the reference's error names.
 */
export async function getUserMedia(properties: PublisherProperties = {}): Promise<MediaStream> {
  return (await capture(properties)).stream;
}

/** The answer of `checkScreenSharingCapability()`. */
export interface ScreenSharingCapability {
  supported: boolean;
  supportedSources: { screen: boolean; window: boolean; application: boolean; browser: boolean };
  /** Extensions are a thing of the past: always false. */
  extensionRequired: boolean;
  extensionInstalled: boolean;
  extensionRegistered: boolean;
}

/** Whether this browser can share a screen (getDisplayMedia), as `OT.checkScreenSharingCapability(cb)`. */
export function checkScreenSharingCapability(cb: (response: ScreenSharingCapability) => void): void {
  const supported = typeof globalThis.navigator?.mediaDevices?.getDisplayMedia === 'function';
  cb({
    supported,
    supportedSources: { screen: supported, window: supported, application: false, browser: supported },
    extensionRequired: false,
    extensionInstalled: false,
    extensionRegistered: false,
  });
}

/** 1 if this browser has what publishing and subscribing need (WebRTC, media capture), else 0. */
export function checkSystemRequirements(): 0 | 1 {
  const g = globalThis as { RTCPeerConnection?: unknown; navigator?: Navigator; MediaStream?: unknown };
  return typeof g.RTCPeerConnection === 'function' && typeof g.MediaStream === 'function' && typeof g.navigator?.mediaDevices?.getUserMedia === 'function' ? 1 : 0;
}
