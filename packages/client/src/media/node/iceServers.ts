import type { IceServer } from 'node-datachannel';

/** A STUN/TURN server in the W3C shape. */
export interface IceServerConfig {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Converts a W3C ICE server to node-datachannel's URL strings (`turn:user:pass@host:port`). */
export function toNdcIceServers(s: IceServerConfig): (string | IceServer)[] {
  const urls = Array.isArray(s.urls) ? s.urls : [s.urls];
  return urls.map((url) => {
    const m = /^(stun|turns?):([^?]+)(?:\?transport=(udp|tcp))?$/.exec(url);
    if (!m) throw new TypeError(`unsupported ICE server URL ${url}`);
    const [, scheme, hostPort = '', transport] = m;
    if (scheme === 'stun') return `stun:${hostPort}`;
    const lastColon = hostPort.lastIndexOf(':');
    const hostname = lastColon > 0 ? hostPort.slice(0, lastColon) : hostPort;
    const port = lastColon > 0 ? Number(hostPort.slice(lastColon + 1)) : scheme === 'turns' ? 5349 : 3478;
    return {
      hostname,
      port,
      username: s.username,
      password: s.credential,
      relayType: scheme === 'turns' ? 'TurnTls' : transport === 'tcp' ? 'TurnTcp' : 'TurnUdp',
    };
  });
}
