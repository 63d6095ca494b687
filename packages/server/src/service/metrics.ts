import { Counter, Gauge, Registry } from 'prom-client';

/** Media-plane totals read at scrape time (cumulative, never decreasing). */
export interface MediaTotals {
  rtpPacketsForwarded: number;
  rtpPacketsLost: number;
  rtcpNackReceived: number;
  rtcpPliReceived: number;
}

/** Prometheus metrics of one server (its own Registry, so servers in one process never clash). */
export interface ServerMetrics {
  registry: Registry;
  inboundMessages: Counter;
}

/** A counter that mirrors a cumulative total read at scrape time. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v > last) this.inc(v - last);
      last = Math.max(last, v);
    },
  });
}

/** Create the metrics; gauges and media counters read the live values at scrape time. */
export function createMetrics(read: {
  sessions(): number;
  connections(): number;
  sockets(): number;
  streams(): number;
  mediaRooms(): number;
  mediaTransports(): number;
  media(): MediaTotals | null;
}): ServerMetrics {
  const registry = new Registry();
  new Gauge({ name: 'convene_sessions', help: 'Live sessions on this server', registers: [registry], collect() { this.set(read.sessions()); } });
  new Gauge({ name: 'convene_connections', help: 'Connections in sessions (including ones awaiting resume)', registers: [registry], collect() { this.set(read.connections()); } });
  new Gauge({ name: 'convene_signaling_sockets', help: 'Open signaling WebSockets', registers: [registry], collect() { this.set(read.sockets()); } });
  new Gauge({ name: 'convene_streams', help: 'Published streams', registers: [registry], collect() { this.set(read.streams()); } });
  new Gauge({ name: 'convene_media_rooms', help: 'Sessions with a media room (SFU router)', registers: [registry], collect() { this.set(read.mediaRooms()); } });
  new Gauge({ name: 'convene_media_transports', help: 'WebRTC peer connections held by the SFU', registers: [registry], collect() { this.set(read.mediaTransports()); } });
  const m = (k: keyof MediaTotals) => (): number => read.media()?.[k] ?? 0;
  mirroredCounter(registry, 'convene_rtp_packets_forwarded_total', 'RTP packets forwarded to subscribers (first transmissions)', m('rtpPacketsForwarded'));
  mirroredCounter(registry, 'convene_rtp_packets_lost_total', 'RTP packets found missing from publishers', m('rtpPacketsLost'));
  mirroredCounter(registry, 'convene_rtcp_nack_total', 'RTCP NACK packets received from subscribers', m('rtcpNackReceived'));
  mirroredCounter(registry, 'convene_rtcp_pli_total', 'RTCP PLI packets received from subscribers', m('rtcpPliReceived'));
  const inboundMessages = new Counter({ name: 'convene_signaling_messages_received_total', help: 'Signaling frames received', registers: [registry] });
  return { registry, inboundMessages };
}
