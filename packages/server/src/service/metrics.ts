import { Counter, Gauge, Registry } from 'prom-client';

/** Prometheus metrics of one server (its own Registry, so servers in one process never clash). */
export interface ServerMetrics {
  registry: Registry;
  inboundMessages: Counter;
}

/** Create the metrics; gauges read the live counts at scrape time. */
export function createMetrics(read: { sessions(): number; connections(): number; sockets(): number }): ServerMetrics {
  const registry = new Registry();
  new Gauge({ name: 'convene_sessions', help: 'Live sessions on this server', registers: [registry], collect() { this.set(read.sessions()); } });
  new Gauge({ name: 'convene_connections', help: 'Connections in sessions (including ones awaiting resume)', registers: [registry], collect() { this.set(read.connections()); } });
  new Gauge({ name: 'convene_signaling_sockets', help: 'Open signaling WebSockets', registers: [registry], collect() { this.set(read.sockets()); } });
  const inboundMessages = new Counter({ name: 'convene_signaling_messages_received_total', help: 'Signaling frames received', registers: [registry] });
  return { registry, inboundMessages };
}
