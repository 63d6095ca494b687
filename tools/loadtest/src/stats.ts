/** The p-th percentile (0–100) of `values` by nearest rank; null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? null;
}

/** Rounds to `digits` decimals (null stays null). */
export function round(v: number | null, digits = 1): number | null {
  if (v === null || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Loss in percent of what should have arrived. */
export function lossPct(received: number, lost: number): number {
  const expected = received + lost;
  return expected > 0 ? (100 * lost) / expected : 0;
}

/** `1.23 Mbit/s` style. */
export function formatBitrate(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kbit/s`;
  return `${bps.toFixed(0)} bit/s`;
}

/** `12 ms` or `–`. */
export function formatMs(v: number | null): string {
  return v === null ? '–' : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`;
}
