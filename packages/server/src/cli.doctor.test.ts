import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { signHs256 } from './service/jwt.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/convene.js', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));

function convene(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('convene doctor / convene start ICE flags (CLI)', () => {
  beforeAll(() => {
    execFileSync('npx', ['tsc', '-b', pkg], { cwd: root, stdio: 'pipe', timeout: 120_000 });
  }, 130_000);

  it('convene doctor without --url exits 2 with its usage', () => {
    const r = convene(['doctor']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--url is required');
    expect(r.stderr).toContain('Usage: convene doctor');
  });

  it('convene doctor exits 1 with a FAIL line and a fix when the server does not answer', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as { port: number };
    await new Promise<void>((r) => s.close(() => r()));
    const r = convene(['doctor', '--url', `http://127.0.0.1:${port}`, '--timeout', '3000']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}WebSocket signaling/m);
    expect(r.stdout).toMatch(/→ Check the URL/);
    expect(r.stdout).toContain('1 required check failed.');
  });

  it('convene start with TURN credentials but no TURN URL exits 1 and says so', () => {
    const r = convene(['start', '--port', '0', '--log-level', 'silent'], { CONVENE_TURN_SECRET: 'x' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('without a TURN URL');
  });

  it('convene start hands clients the TURN servers of CONVENE_TURN_URLS with credentials minted from --turn-secret', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'start', '--port', '0', '--rtc-port', '0', '--log-level', 'silent', '--api-key', 'k', '--api-secret', 's', '--turn-secret', 'shh', '--turn-ttl', '120'],
      { env: { ...process.env, CONVENE_TURN_URLS: 'turn:192.0.2.10:3478?transport=udp,turns:192.0.2.10:5349' } },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 15_000;
      while (!/API secret: /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const port = /listening on http:\/\/localhost:(\d+)/.exec(out)?.[1];
      expect(port).toBeDefined();
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`);
      const now = Math.floor(Date.now() / 1000);
      const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
        ws.on('error', reject);
        ws.on('message', (d) => {
          const f = JSON.parse(d.toString()) as Record<string, unknown>;
          if (f.type === 'hello') ws.send(JSON.stringify({ v: 1, id: 1, type: 'connect', sessionId: 'cli', token: signHs256({ iss: 'k', tpc: 'cli', iat: now, exp: now + 60 }, 's') }));
          else if (f.id === 1) resolve(f.result as Record<string, unknown>);
        });
      });
      ws.close();
      const [turn] = result.iceServers as { urls: string[]; username: string; credential: string }[];
      expect(turn?.urls).toEqual(['turn:192.0.2.10:3478?transport=udp', 'turns:192.0.2.10:5349']);
      expect(Number(turn?.username.split(':')[0])).toBeLessThanOrEqual(now + 121);
      expect(Number(turn?.username.split(':')[0])).toBeGreaterThanOrEqual(now + 119);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 30_000);
});
