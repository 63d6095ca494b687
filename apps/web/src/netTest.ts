/**
 * Network test against this server (sessions guide, pre-session): round-trip time from timed
 * `GET /healthz` requests, and download/upload throughput through `/v1/nettest`.
 */

export type Strength = 'good' | 'fair' | 'poor';

export interface NetResult {
  /** Median round trip, ms. */
  rttMs: number;
  /** Download estimate, kbit/s. */
  downKbps: number;
  /** Upload estimate, kbit/s. */
  upKbps: number;
  strength: Strength;
}

const now = (): number => performance.now();

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await run();
  return now() - t0;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

/** What a video call needs: 720p video ~1.5 Mbit/s each way; < 150 ms RTT feels live. */
export function strengthOf(r: Omit<NetResult, 'strength'>): Strength {
  const bw = Math.min(r.downKbps, r.upKbps);
  if (r.rttMs < 150 && bw >= 1500) return 'good';
  if (r.rttMs < 400 && bw >= 400) return 'fair';
  return 'poor';
}

/** Run the test: 5 RTT probes, then one download and one upload of `bytes` each. */
export async function runNetTest(bytes = 512 * 1024, signal?: AbortSignal): Promise<NetResult> {
  const rtts: number[] = [];
  for (let i = 0; i < 5; i++) {
    rtts.push(await timed(() => fetch(`/healthz?nt=${i}`, { cache: 'no-store', signal }).then((r) => r.arrayBuffer())));
  }
  const rttMs = median(rtts);
  const downMs = await timed(() => fetch(`/v1/nettest?bytes=${bytes}`, { cache: 'no-store', signal }).then((r) => r.arrayBuffer()));
  const payload = new Uint8Array(bytes);
  crypto.getRandomValues(payload.subarray(0, 65536));
  const upMs = await timed(() =>
    fetch('/v1/nettest', { method: 'POST', body: payload, headers: { 'content-type': 'application/octet-stream' }, signal }).then((r) => r.json()),
  );
  // Take one round trip off each transfer: what is left is the time the bytes took.
  const kbps = (ms: number): number => Math.round((bytes * 8) / Math.max(1, ms - rttMs));
  const base = { rttMs: Math.round(rttMs), downKbps: kbps(downMs), upKbps: kbps(upMs) };
  return { ...base, strength: strengthOf(base) };
}

/** "12.3 Mbit/s" / "800 kbit/s". */
export function formatKbps(k: number): string {
  return k >= 1000 ? `${(k / 1000).toFixed(1)} Mbit/s` : `${k} kbit/s`;
}
