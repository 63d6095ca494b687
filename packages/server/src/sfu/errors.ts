/** Thrown by every method of a closed media object (Router, WebRtcTransport, Producer, Consumer). */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';

  /** `what` names the closed object, e.g. 'Producer closed'. */
  constructor(message: string) {
    super(message);
  }
}
