import type { LoadTestReport, SubscriberReport } from './report.js';
import { formatBitrate, formatMs, lossPct } from './stats.js';

/** How many subscribers the text report lists one by one (the JSON always has all of them). */
const LIST_SUBSCRIBERS = 20;

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

function subscriberRow(s: SubscriberReport): string[] {
  const packets = s.tracks.reduce((a, t) => a + t.packets, 0);
  const lost = s.tracks.reduce((a, t) => a + t.lost, 0);
  const bitrate = s.tracks.reduce((a, t) => a + t.bitrate, 0);
  const p50 = Math.max(...s.tracks.map((t) => t.latencyP50Ms ?? -1));
  const p99 = Math.max(...s.tracks.map((t) => t.latencyP99Ms ?? -1));
  return [
    s.id,
    `${s.tracksReceived}/${s.tracksExpected}`,
    String(packets),
    formatBitrate(bitrate),
    `${lost} (${lossPct(packets, lost).toFixed(2)}%)`,
    formatMs(p50 < 0 ? null : p50),
    formatMs(p99 < 0 ? null : p99),
    formatMs(s.joinMs),
    String(s.errors.length),
  ];
}

/** The report as text, for the terminal. */
export function formatReport(r: LoadTestReport): string {
  const out: string[] = [];
  const t = r.totals;
  out.push(`Convene load test against ${r.target} — ${r.windowSeconds.toFixed(1)} s measured (started ${r.startedAt})`);
  out.push(
    `  ${String(r.config.sessions)} session(s); per session ${String(r.config.videoPublishers)} video / ${String(r.config.audioPublishers)} audio publisher(s), ${String(r.config.subscribersPerSession)} subscriber(s); ${String(r.config.resolution)}@${String(r.config.fps)} ${formatBitrate(Number(r.config.videoBitrate))}; ${String(r.config.workers)} worker process(es)`,
  );
  out.push('');
  out.push(`Bots       ${r.bots.joined}/${r.bots.planned} joined, ${r.bots.failed} failed, ${r.bots.disconnected} dropped by the server`);
  out.push(`Join       p50 ${formatMs(r.join.p50Ms)}  p99 ${formatMs(r.join.p99Ms)}  max ${formatMs(r.join.maxMs)}`);
  out.push(`1st frame  p50 ${formatMs(r.firstFrame.p50Ms)}  p99 ${formatMs(r.firstFrame.p99Ms)}  max ${formatMs(r.firstFrame.maxMs)}  (stream announced → first key frame)`);
  out.push(`Tracks     ${r.tracks.received}/${r.tracks.expected} received`);
  out.push(
    `Packets    ${t.packetsSent} sent by publishers, ${t.packetsReceived} received by subscribers, ${t.packetsLost} lost (${t.lossPct.toFixed(3)}%)`,
  );
  out.push(`Receive    ${formatBitrate(t.receiveBitrate)} in total`);
  out.push(`Latency    p50 ${formatMs(t.latencyP50Ms)}  p99 ${formatMs(t.latencyP99Ms)}  (end to end, publisher clock → subscriber clock)`);

  if (r.publishers.length > 0) {
    out.push('', 'Publishers');
    const rows = [['bot', 'track', 'packets', 'bitrate', 'retransmitted', 'NACKs', 'PLIs', 'key frames', 'join']];
    for (const p of r.publishers) {
      for (const tr of p.tracks) {
        rows.push([p.id, tr.kind, String(tr.packets), formatBitrate(tr.bitrate), String(tr.retransmitted), String(tr.nacksReceived), String(tr.plisReceived), String(tr.keyframes), formatMs(p.joinMs)]);
      }
      if (p.tracks.length === 0) rows.push([p.id, '–', '0', '–', '–', '–', '–', '–', formatMs(p.joinMs)]);
    }
    out.push(table(rows));
  }

  if (r.subscribers.length > 0) {
    const header = ['bot', 'tracks', 'packets', 'bitrate', 'lost', 'lat p50', 'lat p99', 'join', 'errors'];
    if (r.subscribers.length <= LIST_SUBSCRIBERS) {
      out.push('', 'Subscribers');
      out.push(table([header, ...r.subscribers.map(subscriberRow)]));
    } else {
      const worst = [...r.subscribers]
        .sort((a, b) => {
          const la = a.tracks.reduce((x, t) => x + t.lost, 0) + 1e6 * (a.tracksExpected - a.tracksReceived) + 1e3 * a.errors.length;
          const lb = b.tracks.reduce((x, t) => x + t.lost, 0) + 1e6 * (b.tracksExpected - b.tracksReceived) + 1e3 * b.errors.length;
          return lb - la;
        })
        .slice(0, 5);
      out.push('', `Subscribers (${r.subscribers.length}; the 5 worst shown, all in --json)`);
      out.push(table([header, ...worst.map(subscriberRow)]));
    }
  }

  if (r.errors.length > 0) {
    out.push('', `Errors (${r.errors.length})`);
    const byKind = new Map<string, number>();
    for (const e of r.errors) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
    out.push('  ' + [...byKind].map(([k, n]) => `${k}: ${n}`).join(', '));
    for (const e of r.errors.slice(0, 10)) out.push(`  ${new Date(e.at).toISOString()} ${e.bot} ${e.kind}: ${e.message}`);
    if (r.errors.length > 10) out.push(`  … ${r.errors.length - 10} more in --json`);
  }
  return out.join('\n') + '\n';
}
