import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConveneApi, ConveneApiError, RestClient, type ConveneApiOptions } from './index.js';

/*
 * Behaviour of the REST client that the Convene server cannot exhibit on demand:
 * a server that never answers, a port where nothing listens, a reverse proxy that
 * answers with HTML. Everything that talks to Convene itself is in
 * ConveneApi.integration.test.ts against the real server.
 */

const creds = { apiKey: 'key_test', apiSecret: 'secret-0123456789abcdef' };
const servers: Server[] = [];

/** A real HTTP server on an ephemeral port. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** The rejection of `p`, failing the test if it resolves. */
async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

describe('ConveneApi constructor', () => {
  const make = (o: Partial<ConveneApiOptions>) => () => new ConveneApi({ serverUrl: 'http://127.0.0.1:1', ...creds, ...o });

  it('throws TypeError for a ws:// or other non-http(s) serverUrl', () => {
    expect(make({ serverUrl: 'ws://127.0.0.1:7880' })).toThrow(/serverUrl must use http or https, got ws/);
    expect(make({ serverUrl: 'ftp://example.com' })).toThrow(TypeError);
  });

  it('throws TypeError for a serverUrl that is not a URL', () => {
    expect(make({ serverUrl: 'localhost:7880' })).toThrow(TypeError);
    expect(make({ serverUrl: 'not a url' })).toThrow(/serverUrl is not a valid URL/);
  });

  it('throws TypeError for a serverUrl with a query string', () => {
    expect(make({ serverUrl: 'http://127.0.0.1:7880/?x=1' })).toThrow(/query or fragment/);
  });

  it('throws TypeError without apiKey or apiSecret', () => {
    expect(make({ apiKey: '' })).toThrow(/apiKey must be a non-empty string/);
    expect(make({ apiSecret: undefined as unknown as string })).toThrow(/apiSecret must be a non-empty string/);
  });

  it('throws TypeError for a non-positive timeout or an unknown auth scheme', () => {
    expect(make({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(make({ auth: 'digest' as 'basic' })).toThrow(/auth must be/);
  });

  it('is also exported as RestClient', () => {
    expect(RestClient).toBe(ConveneApi);
  });
});

describe('ConveneApi argument validation', () => {
  const api = new ConveneApi({ serverUrl: 'http://127.0.0.1:1', ...creds });

  it('rejects with TypeError for an empty or over-long session name, before any request', async () => {
    expect(await rejectionOf(api.listConnections(''))).toBeInstanceOf(TypeError);
    expect(await rejectionOf(api.endSession('x'.repeat(151)))).toBeInstanceOf(TypeError);
  });

  it('rejects with TypeError for an empty connectionId', async () => {
    expect(await rejectionOf(api.forceDisconnect('room', ''))).toBeInstanceOf(TypeError);
  });

  it('rejects with TypeError for a session named "." or "..", which no URL can address', async () => {
    const err = await rejectionOf(api.listConnections('..'));
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/cannot be used in a URL path/);
  });

  it('rejects with TypeError for signal data that is not a string', async () => {
    const err = await rejectionOf(api.signal('room', { type: 't', data: { a: 1 } as unknown as string }));
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('signal.data must be a string');
  });
});

describe('ConveneApi transport failures', () => {
  it('rejects with OT_CONNECT_FAILED (status 0) when nothing listens at serverUrl', async () => {
    const url = await listen(() => undefined);
    const s = servers.pop() as Server;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const err = await rejectionOf(new ConveneApi({ serverUrl: url, ...creds }).listSessions());
    expect(err).toBeInstanceOf(ConveneApiError);
    expect(err).toMatchObject({ status: 0, name: 'OT_CONNECT_FAILED', code: 1006, timedOut: false });
    expect((err as Error).message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/v1\/sessions failed: could not reach the Convene server \(.*ECONNREFUSED/);
  });

  it('rejects with a timeout error when the server does not answer within timeoutMs', async () => {
    const url = await listen(() => undefined); // accepts the request, never responds
    const started = Date.now();
    const err = await rejectionOf(new ConveneApi({ serverUrl: url, ...creds, timeoutMs: 300 }).listSessions());
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(err).toBeInstanceOf(ConveneApiError);
    expect(err).toMatchObject({ status: 0, name: 'OT_CONNECT_FAILED', timedOut: true });
    expect((err as Error).message).toMatch(/\/v1\/sessions timed out after 300 ms$/);
  }, 10_000);

  it('times out when the headers arrive but the body stalls', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"sessions": [');
    });
    const err = await rejectionOf(new ConveneApi({ serverUrl: url, ...creds, timeoutMs: 300 }).listSessions());
    expect(err).toMatchObject({ status: 0, timedOut: true });
  }, 10_000);

  it('reports a non-JSON error page (e.g. from a reverse proxy) as OT_UNEXPECTED_SERVER_RESPONSE with its status', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      res.end('<html><body>upstream unavailable</body></html>');
    });
    const err = await rejectionOf(new ConveneApi({ serverUrl: url, ...creds }).endSession('room'));
    expect(err).toBeInstanceOf(ConveneApiError);
    expect(err).toMatchObject({ status: 502, name: 'OT_UNEXPECTED_SERVER_RESPONSE', code: 502 });
    expect((err as Error).message).toMatch(/HTTP 502 Bad Gateway: <html><body>upstream unavailable/);
  });

  it('keeps a path prefix of serverUrl (behind a reverse proxy) and tolerates a trailing slash', async () => {
    const seen: string[] = [];
    const url = await listen((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"sessions":[]}');
    });
    await new ConveneApi({ serverUrl: `${url}/convene/`, ...creds }).listSessions();
    expect(seen).toEqual(['/convene/v1/sessions']);
  });
});
