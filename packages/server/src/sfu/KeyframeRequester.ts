/**
 * Rate-limits and coalesces keyframe requests (PLI, or FIR when the publisher asked for it) toward one
 * publisher's track: any number of subscribers asking within `minIntervalMs` costs the publisher one keyframe.
 * A request inside the interval is remembered and sent when the interval ends, unless a keyframe arrives first.
 */
export class KeyframeRequester {
  /** Requests received (from subscribers or the SFU itself), cumulative. */
  requested = 0;
  /** Requests actually sent to the publisher, cumulative. */
  sent = 0;
  /** FIR command sequence number of the last FIR sent. */
  firSeq = 0;
  readonly #minIntervalMs: number;
  readonly #send: (fir: boolean, firSeq: number) => boolean;
  #lastSentMs = -Infinity;
  #pending = false;
  #pendingFir = false;

  /**
   * `send` writes the actual PLI (fir=false) or FIR (fir=true, with its sequence number) and returns false when
   * it could not (the publisher's track is not open yet): the request then stays pending for {@link tick}.
   */
  constructor(send: (fir: boolean, firSeq: number) => boolean, minIntervalMs = 500) {
    this.#send = send;
    this.#minIntervalMs = minIntervalMs;
  }

  /** Asks for a keyframe; returns true when a request went out now (false: coalesced or deferred). */
  request(nowMs: number, fir = false): boolean {
    this.requested++;
    if (nowMs - this.#lastSentMs >= this.#minIntervalMs) {
      this.#emit(nowMs, fir);
      return !this.#pending;
    }
    this.#pending = true;
    this.#pendingFir ||= fir;
    return false;
  }

  /** Sends a deferred request once the interval has passed; call periodically. */
  tick(nowMs: number): void {
    if (this.#pending && nowMs - this.#lastSentMs >= this.#minIntervalMs) this.#emit(nowMs, this.#pendingFir);
  }

  /** A keyframe arrived: a deferred request is no longer needed. */
  onKeyframe(): void {
    this.#pending = false;
    this.#pendingFir = false;
  }

  /** True while a deferred request waits for the interval. */
  get pending(): boolean {
    return this.#pending;
  }

  #emit(nowMs: number, fir: boolean): void {
    const seq = fir ? (this.firSeq + 1) & 0xff : this.firSeq;
    if (!this.#send(fir, seq)) {
      this.#pending = true;
      this.#pendingFir ||= fir;
      return;
    }
    if (fir) this.firSeq = seq;
    this.#pending = false;
    this.#pendingFir = false;
    this.#lastSentMs = nowMs;
    this.sent++;
  }
}
