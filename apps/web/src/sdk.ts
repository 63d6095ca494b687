/**
 * The one place the app imports the SDK. Everything comes from the public `@convene/client` API:
 * the `createClient()` facade (join, users, roles, host controls) and the OpenTok-style objects
 * (`OT.initPublisher`, `session.publish/subscribe`) for media and signals, reached with
 * `client.getSession()`.
 */
import { OT, createClient } from '@convene/client';

export { OT, createClient };
export type { Capabilities, Connection, Participant, Publisher, Session, Stream, Subscriber, VideoClient } from '@convene/client';

/**
 * Browser support, checked before anything else (sessions guide, pre-session):
 * `OT.checkSystemRequirements()` for WebRTC, plus a secure context for devices.
 */
export function checkSupport(): { ok: boolean; media: boolean; reason?: string } {
  if (typeof WebSocket !== 'function') return { ok: false, media: false, reason: 'This browser cannot open WebSockets, so it cannot join.' };
  if (OT.checkSystemRequirements() !== 1) {
    const secure = window.isSecureContext ? '' : ' Camera and microphone need HTTPS (or localhost).';
    return { ok: true, media: false, reason: `This browser cannot send or receive video here.${secure} You can still join for chat.` };
  }
  return { ok: true, media: true };
}
