import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyClientToken } from './service/tokens.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/convene.js', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));

function convene(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('convene CLI', () => {
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-b', pkg], { cwd: root, stdio: 'pipe', timeout: 120_000 });
  }, 130_000);

  it('convene --help prints usage and exits 0', () => {
    const r = convene(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: convene <command>');
    expect(r.stdout).toContain('start');
    expect(r.stdout).toContain('token');
  });

  it.each(['start', 'token'])('convene %s --help prints its usage and exits 0', (cmd) => {
    const r = convene([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Usage: convene ${cmd}`);
  });

  it('an unknown subcommand prints usage on stderr and exits 2', () => {
    const r = convene(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command');
    expect(r.stderr).toContain('Usage: convene');
    expect(r.stdout).toBe('');
  });

  it('an unknown option exits 2 with the subcommand usage', () => {
    const r = convene(['token', '--nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Usage: convene token');
  });

  it('convene token prints a token the server accepts', () => {
    const r = convene(['token', '--session', 'My Room', '--role', 'host', '--user-name', 'Ada', '--api-key', 'k1', '--api-secret', 's1']);
    expect(r.status).toBe(0);
    const v = verifyClientToken(r.stdout.trim(), 'my room', (k) => (k === 'k1' ? 's1' : undefined));
    expect(v).toMatchObject({ ok: true, value: { role: 'host', userName: 'Ada', sessionId: 'my room' } });
  });

  it('convene token without a session exits 2', () => {
    const r = convene(['token', '--api-key', 'k', '--api-secret', 's']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--session is required');
  });

  it('convene start prints the URL and uncoloured API key and secret lines, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--log-level', 'silent'], { env: { ...process.env, FORCE_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!/API secret: /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(/^API key: [A-Za-z0-9_-]+$/m);
    expect(out).toMatch(/^API secret: [A-Za-z0-9_-]+$/m);
    expect(out).not.toContain('\u001b[');
    const port = /localhost:(\d+)/.exec(out)?.[1];
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);

  it('convene start uses CONVENE_API_KEY/CONVENE_API_SECRET and PORT from the environment', async () => {
    const child = spawn(process.execPath, [bin, 'start', '--log-level', 'silent'], {
      env: { ...process.env, PORT: '0', CONVENE_API_KEY: 'env_key', CONVENE_API_SECRET: 'env_secret_value' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!/API secret: /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('API key: env_key');
    expect(out).toContain('API secret: env_secret_value');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);

  it('convene start --rtc-port with an invalid port exits 2', () => {
    const r = convene(['start', '--port', '0', '--rtc-port', '70000']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('invalid RTC port');
  });

  it('convene start --rtc-proxy-port takes a port number or off, and exits 2 on anything else', () => {
    for (const bad of ['0', 'abc', '70000']) {
      const r = convene(['start', '--port', '0', '--rtc-proxy-port', bad]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('invalid RTC proxy port');
    }
  });

  it('with MEDIA_TRANSPORT=libdatachannel, convene start prints the media UDP port (RTC_PORT) with the TURN/TCP relay port (RTC_PROXY_PORT)', async () => {
    const free = async (): Promise<number> =>
      new Promise<number>((resolve) => {
        const s = createSocket('udp4');
        s.bind(0, '0.0.0.0', () => {
          const { port } = s.address();
          s.close(() => resolve(port));
        });
      });
    const [media, proxy] = [await free(), await free()];
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--log-level', 'silent'], {
      env: { ...process.env, RTC_PORT: String(media), RTC_PROXY_PORT: String(proxy), MEDIA_TRANSPORT: 'libdatachannel' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!/API secret: /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain(`Media: UDP ${media}; TURN/TCP relays: UDP ${proxy}`);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);

  it('convene start takes the media UDP port from RTC_PORT and prints it', async () => {
    const free = await new Promise<number>((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '0.0.0.0', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--log-level', 'silent', '--announced-ip', '203.0.113.7', '--rtc-proxy-port', 'off'], {
      env: { ...process.env, RTC_PORT: String(free) },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!/API secret: /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain(`Media: UDP ${free} (announced as 203.0.113.7)\n`);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);

  it('convene start uses the native media transport by default: one UDP port and no relay port in the banner', async () => {
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--log-level', 'silent'], { env: { ...process.env, RTC_PORT: '0' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!/API secret: /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(/^Media: UDP \d+\n/m);
    expect(out).not.toContain('TURN/TCP relays');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);

  it('convene start --media-transport with an unknown value exits 2 and names the choices', async () => {
    const child = spawn(process.execPath, [bin, 'start', '--port', '0', '--media-transport', 'webrtc-rs'], { env: process.env });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toContain('--media-transport must be native or libdatachannel');
  }, 30_000);
});
