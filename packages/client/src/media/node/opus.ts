// Opus payloads for synthetic audio (RFC 6716, RFC 7587).

/**
 * One 20 ms Opus packet of silence: TOC 0xf8 (config 31 = CELT-only fullband 20 ms, mono, one
 * frame) followed by the two-byte CELT frame 0xff 0xfe, whose first range-coded symbol is the
 * "silence" flag. Three bytes, so WebRTC does not take it for DTX (≤ 2 bytes): Chromium runs
 * the decoder on it and counts its 960 samples as received, not concealed.
 */
export const OPUS_SILENCE_20MS: Uint8Array = Uint8Array.of(0xf8, 0xff, 0xfe);

/** RTP clock rate of Opus (always 48 kHz, RFC 7587). */
export const OPUS_CLOCK_RATE = 48_000;

/** Samples per 20 ms packet at 48 kHz. */
export const OPUS_SAMPLES_PER_20MS = 960;
