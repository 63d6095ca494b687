import { ErrorCode } from '@convene/protocol';
import { ConveneError } from '../../errors.js';

/** Error names of capture and display failures, as the reference spells them. */
export const MediaErrorName = {
  UserMediaAccessDenied: 'OT_USER_MEDIA_ACCESS_DENIED',
  HardwareUnavailable: 'OT_HARDWARE_UNAVAILABLE',
  NoDevicesFound: 'OT_NO_DEVICES_FOUND',
  ConstraintsNotSatisfied: 'OT_CONSTRAINTS_NOT_SATISFIED',
  InvalidParameter: 'OT_INVALID_PARAMETER',
  ScreenSharingNotSupported: 'OT_SCREEN_SHARING_NOT_SUPPORTED',
  NotSupported: 'OT_NOT_SUPPORTED',
  UnableToCaptureMedia: 'OT_UNABLE_TO_CAPTURE_MEDIA',
  NotConnected: 'OT_NOT_CONNECTED',
  InvalidState: 'OT_INVALID_STATE',
} as const;
export type MediaErrorName = (typeof MediaErrorName)[keyof typeof MediaErrorName];

/** Code of every capture failure: the reference's "unable to publish". */
const UNABLE_TO_PUBLISH = ErrorCode.PublishPermissionDenied;

/** A capture or display error with its reference name; `cause` holds the browser's DOMException. */
export function mediaError(name: MediaErrorName, message: string, cause?: unknown): ConveneError {
  const code =
    name === MediaErrorName.InvalidParameter
      ? ErrorCode.InvalidParameter
      : name === MediaErrorName.NotConnected
        ? ErrorCode.NotConnected
        : UNABLE_TO_PUBLISH;
  return new ConveneError(name, code, message, { cause });
}

/** Map a getUserMedia/getDisplayMedia rejection to the reference's error names. */
export function fromCaptureError(err: unknown, screen: boolean): ConveneError {
  if (err instanceof ConveneError) return err;
  const name = (err as { name?: string } | null)?.name ?? '';
  const msg = (err as { message?: string } | null)?.message ?? String(err);
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return mediaError(MediaErrorName.UserMediaAccessDenied, `Access to the ${screen ? 'screen' : 'camera or microphone'} was denied: ${msg}`, err);
    case 'NotFoundError':
    case 'DevicesNotFoundError':
      return mediaError(MediaErrorName.NoDevicesFound, `No ${screen ? 'screen' : 'camera or microphone'} was found: ${msg}`, err);
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return mediaError(MediaErrorName.HardwareUnavailable, `The device is in use or unavailable: ${msg}`, err);
    case 'OverconstrainedError':
      return mediaError(MediaErrorName.ConstraintsNotSatisfied, `No device satisfies the constraints: ${msg}`, err);
    case 'TypeError':
      return mediaError(MediaErrorName.InvalidParameter, msg, err);
    case 'InvalidStateError':
      // getDisplayMedia without a user gesture, among others.
      return mediaError(screen ? MediaErrorName.ScreenSharingNotSupported : MediaErrorName.UnableToCaptureMedia, msg, err);
    default:
      return mediaError(screen ? MediaErrorName.ScreenSharingNotSupported : MediaErrorName.UnableToCaptureMedia, msg, err);
  }
}
