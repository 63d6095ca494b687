import type { MediaTrack } from '../TransportLink.js';

/**
 * A {@link MediaTrack} stub for Producer/Consumer unit tests: records what is sent on it (copies), lets the test
 * deliver packets and decide when it opens (`openAtOnce`: it is open as soon as someone listens).
 */
export function stubTrack(openAtOnce = false): { track: MediaTrack; sent: Buffer[]; deliver: (b: Buffer) => void; open: () => void } {
  const sent: Buffer[] = [];
  let deliver: (b: Buffer) => void = () => {};
  let open: () => void = () => {};
  const track: MediaTrack = {
    onMessage(cb) {
      deliver = cb;
    },
    onOpen(cb) {
      open = cb;
      if (openAtOnce) cb();
    },
    onClosed() {},
    sendMessageBinary(b) {
      sent.push(Buffer.from(b));
      return true;
    },
  };
  return { track, sent, deliver: (b) => deliver(b), open: () => open() };
}
