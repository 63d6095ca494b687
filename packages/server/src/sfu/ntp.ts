/** Clock helpers: a monotonic millisecond clock for timing and NTP conversion for SR/RR. */

const NTP_EPOCH_OFFSET_S = 2_208_988_800;
const wallAtStart = Date.now();
const monoAtStart = performance.now();

/** Monotonic milliseconds (fractional). */
export function nowMs(): number {
  return performance.now();
}

/** Monotonic microseconds (fractional), for transport-cc arrival times. */
export function nowUs(): number {
  return performance.now() * 1000;
}

/** Wall-clock milliseconds since the Unix epoch matching monotonic time `monoMs` (no jumps when the clock is set). */
export function wallMs(monoMs: number): number {
  return wallAtStart + (monoMs - monoAtStart);
}

/** NTP seconds (32 bits) of a Unix-epoch millisecond time. */
export function ntpSeconds(unixMs: number): number {
  return (Math.floor(unixMs / 1000) + NTP_EPOCH_OFFSET_S) >>> 0;
}

/** NTP fraction (32 bits) of a Unix-epoch millisecond time. */
export function ntpFraction(unixMs: number): number {
  const ms = unixMs - Math.floor(unixMs / 1000) * 1000;
  return Math.floor((ms / 1000) * 0x1_0000_0000) >>> 0;
}

/** Middle 32 bits of the NTP timestamp (the LSR field of a report block). */
export function ntpMiddle(ntpSec: number, ntpFrac: number): number {
  return (((ntpSec & 0xffff) << 16) | (ntpFrac >>> 16)) >>> 0;
}
