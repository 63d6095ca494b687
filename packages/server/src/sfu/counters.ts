/**
 * Plain counters of one Router's media plane, read by the metrics layer (no prom-client here).
 * Cumulative since the Router was created.
 */
export class MediaCounters {
  /** RTP packets received from publishers (retransmissions included, RTX padding probes excluded). */
  rtpPacketsReceived = 0;
  /** RTP packets sent to subscribers (first transmissions). */
  rtpPacketsForwarded = 0;
  /** Packets found missing from publishers (gaps detected by NACK generation). */
  rtpPacketsLost = 0;
  /** Retransmissions sent to subscribers in answer to their NACKs (RTX or original SSRC). */
  rtpRetransmitted = 0;
  /** NACKed packets we could not retransmit (no longer buffered). */
  rtpRetransmitMissed = 0;
  /** Packets dropped by the test-only loss hook. */
  rtpTestDropped = 0;
  /** NACK packets received from subscribers. */
  rtcpNackReceived = 0;
  /** NACK packets sent to publishers. */
  rtcpNackSent = 0;
  /** PLI packets received from subscribers. */
  rtcpPliReceived = 0;
  /** FIR packets received from subscribers. */
  rtcpFirReceived = 0;
  /** PLI packets sent to publishers (after coalescing). */
  rtcpPliSent = 0;
  /** FIR packets sent to publishers (after coalescing). */
  rtcpFirSent = 0;
  /** Transport-wide CC feedback packets sent to publishers. */
  rtcpTwccSent = 0;
  /** Sender reports sent to subscribers. */
  rtcpSrSent = 0;
  /** Receiver reports sent to publishers. */
  rtcpRrSent = 0;

  /** Adds every counter of `other` to this one (for a worker-wide sum). */
  add(other: MediaCounters): void {
    for (const k of Object.keys(other) as (keyof MediaCounters)[]) {
      const v = other[k];
      if (typeof v === 'number') (this[k] as number) += v;
    }
  }
}
