import { readFileSync } from 'node:fs';
import { formatCheck, runDoctor } from './doctor.js';

/** Usage of `convene doctor`. */
export const DOCTOR_USAGE = `Usage: convene doctor --url <server> [options]

Check, from this machine, that calls to a Convene server will connect: WebSocket signaling,
round-trip time, bandwidth, joining a session, media over UDP through the SFU (a real ICE+DTLS
connection with a synthetic stream sent and received back), every STUN/TURN server the server
hands out (a TURN allocation over UDP, TCP or TLS), and media relayed through TURN.
One line per check; on failure, what to change. Exits 1 when a required check fails.

Options:
  --url <url>          Server URL, e.g. https://video.example.com (required)
  --api-key <key>      API key, to mint a token for the check (env CONVENE_API_KEY)
  --api-secret <s>     API secret (env CONVENE_API_SECRET)
  --token <t>          A client token instead (with --session)
  --session <name>     Session to join (default: a fresh convene-doctor-… name)
  --timeout <ms>       Per-check timeout (default 10000)
  --ca <file>          Extra CA certificate (PEM) trusted for turns: servers
  --bind <addr>        Local address for the media checks (default: any)
  -h, --help           Show this help

Without credentials, a dev-mode server's /dev/token is used.
`;

/** Run `convene doctor` with parsed values; resolves with the exit code. */
export async function doctorCommand(
  v: Record<string, string | boolean | undefined>,
  io: { out(t: string): void; err(t: string): void; env: NodeJS.ProcessEnv },
): Promise<number> {
  const url = v.url as string | undefined;
  if (!url) {
    io.err(`convene doctor: --url is required\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  const timeoutMs = v.timeout === undefined ? undefined : Number(v.timeout);
  if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
    io.err('convene doctor: --timeout must be a positive number of milliseconds\n');
    return 2;
  }
  if (v.token !== undefined && v.session === undefined) {
    io.err('convene doctor: --token needs --session (the session the token is for)\n');
    return 2;
  }
  let ca: string | undefined;
  if (typeof v.ca === 'string') {
    try {
      ca = readFileSync(v.ca, 'utf8');
    } catch (err) {
      io.err(`convene doctor: cannot read --ca: ${(err as Error).message}\n`);
      return 2;
    }
  }
  try {
    const { ok, results } = await runDoctor(
      {
        url,
        token: v.token as string | undefined,
        sessionId: v.session as string | undefined,
        apiKey: (v['api-key'] as string | undefined) ?? io.env.CONVENE_API_KEY,
        apiSecret: (v['api-secret'] as string | undefined) ?? io.env.CONVENE_API_SECRET,
        timeoutMs,
        ca,
        bindAddress: v.bind as string | undefined,
      },
      (r) => io.out(formatCheck(r) + '\n'),
    );
    const failed = results.filter((r) => r.required && r.status === 'fail').length;
    io.out(ok ? '\nAll required checks passed.\n' : `\n${failed} required check${failed === 1 ? '' : 's'} failed.\n`);
    const code = ok ? 0 : 1;
    // After a TURN allocation, node-datachannel 0.33 (libjuice) keeps native threads that hold the process
    // open after every peer closed, and its cleanup() aborts then. Run as the `convene` binary, end the
    // process once the output is flushed (an unref'd timer: it only fires when something else holds the loop).
    if (/[/\\]convene(\.js)?$/.test(process.argv[1] ?? '')) setTimeout(() => process.exit(code), 300).unref();
    return code;
  } catch (err) {
    io.err(`convene doctor: ${(err as Error).message}\n`);
    return 2;
  }
}
