import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_PORT, ROLES, type Role } from '@convene/protocol';
import { signHs256 } from './service/jwt.js';
import { DEFAULT_RTC_PORT, SERVER_VERSION, startServer } from './service/startServer.js';
import { iceServersFromSettings } from './service/iceServers.js';
import { DOCTOR_USAGE, doctorCommand } from './service/doctorCommand.js';
import type { LogLevel } from './util/log.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

/** One subcommand: its options (node:util parseArgs format), usage text and action. Add new commands to COMMANDS. */
interface Command {
  summary: string;
  usage: string;
  options: Options;
  run(values: Values, io: CliIo): Promise<number>;
  /** Commands that parse their own arguments get them raw (then `options` and `run` are unused). */
  runRaw?(argv: string[], io: CliIo): Promise<number>;
}

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const start: Command = {
  summary: 'Start a Convene server',
  usage: `Usage: convene start [options]

Start a Convene server (in-memory state). Without an API key and secret it runs
in dev mode and prints generated ones.

Options:
  --port <n>          Port to listen on (env PORT, default ${DEFAULT_PORT})
  --host <addr>       Address to listen on (default: all, IPv4 and IPv6)
  --api-key <key>     API key (env CONVENE_API_KEY)
  --api-secret <s>    API secret (env CONVENE_API_SECRET)
  --production        Require an API key and secret (also NODE_ENV=production)
  --log-level <lvl>   ${LOG_LEVELS.join(', ')} (env LOG_LEVEL, default info)
  --rtc-port <n>      The one UDP port for all media (env RTC_PORT, default ${DEFAULT_RTC_PORT};
                      0 = any free port, which is also the default with --port 0)
  --rtc-bind <addr>   Local address of the media port (env RTC_BIND_ADDRESS, default 0.0.0.0)
  --media-transport <native|libdatachannel>
                      ICE/DTLS/SRTP of the SFU (env MEDIA_TRANSPORT; default native when its
                      addon is built, else libdatachannel)
  --rtc-proxy-port <n|off>
                      libdatachannel transport only: UDP port through which browsers relaying over
                      TURN/TCP or TLS reach the SFU (env RTC_PROXY_PORT, default --rtc-port + 1)
  --announced-ip <ip> Public IP written into media ICE candidates, for a server behind NAT
                      (env CONVENE_ANNOUNCED_IP)
  --stun-url <urls>   STUN URLs sent to clients, comma-separated (env CONVENE_STUN_URLS)
  --turn-url <urls>   TURN URLs sent to clients, comma-separated, e.g.
                      turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349
                      (env CONVENE_TURN_URLS)
  --turn-secret <s>   coturn static-auth-secret: short-lived credentials per connection
                      (env CONVENE_TURN_SECRET)
  --turn-ttl <s>      Lifetime of those credentials in seconds (env CONVENE_TURN_TTL, default 86400)
  --turn-username <u> Static TURN user name (env CONVENE_TURN_USERNAME), with
  --turn-credential <p> its password (env CONVENE_TURN_CREDENTIAL)
  -h, --help          Show this help
`,
  options: {
    port: { type: 'string' },
    'rtc-port': { type: 'string' },
    'rtc-proxy-port': { type: 'string' },
    'rtc-bind': { type: 'string' },
    'media-transport': { type: 'string' },
    'announced-ip': { type: 'string' },
    'stun-url': { type: 'string' },
    'turn-url': { type: 'string' },
    'turn-secret': { type: 'string' },
    'turn-ttl': { type: 'string' },
    'turn-username': { type: 'string' },
    'turn-credential': { type: 'string' },
    host: { type: 'string' },
    'api-key': { type: 'string' },
    'api-secret': { type: 'string' },
    production: { type: 'boolean' },
    'log-level': { type: 'string' },
  },
  async run(v, io) {
    const portText = (v.port as string | undefined) ?? io.env.PORT ?? String(DEFAULT_PORT);
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      io.err(`convene start: invalid port ${JSON.stringify(portText)}\n`);
      return 2;
    }
    const rtcPortText = (v['rtc-port'] as string | undefined) ?? io.env.RTC_PORT;
    const rtcPort = rtcPortText === undefined ? undefined : Number(rtcPortText);
    if (rtcPort !== undefined && (!Number.isInteger(rtcPort) || rtcPort < 0 || rtcPort > 65535)) {
      io.err(`convene start: invalid RTC port ${JSON.stringify(rtcPortText)}\n`);
      return 2;
    }
    const rtcProxyText = (v['rtc-proxy-port'] as string | undefined) ?? io.env.RTC_PROXY_PORT;
    const rtcProxyPort = rtcProxyText === undefined ? undefined : rtcProxyText === 'off' ? null : Number(rtcProxyText);
    if (rtcProxyPort !== undefined && rtcProxyPort !== null && (!Number.isInteger(rtcProxyPort) || rtcProxyPort < 1 || rtcProxyPort > 65535)) {
      io.err(`convene start: invalid RTC proxy port ${JSON.stringify(rtcProxyText)} (a port number, or off)\n`);
      return 2;
    }
    const rtcBindAddress = (v['rtc-bind'] as string | undefined) ?? io.env.RTC_BIND_ADDRESS;
    const mediaTransport = (v['media-transport'] as string | undefined) ?? io.env.MEDIA_TRANSPORT;
    if (mediaTransport !== undefined && mediaTransport !== 'native' && mediaTransport !== 'libdatachannel') {
      io.err(`convene start: --media-transport must be native or libdatachannel\n`);
      return 2;
    }
    const announcedIp = (v['announced-ip'] as string | undefined) ?? io.env.CONVENE_ANNOUNCED_IP;
    const logLevel = ((v['log-level'] as string | undefined) ?? io.env.LOG_LEVEL ?? 'info') as LogLevel;
    if (!LOG_LEVELS.includes(logLevel)) {
      io.err(`convene start: --log-level must be one of ${LOG_LEVELS.join(', ')}\n`);
      return 2;
    }
    const apiKey = (v['api-key'] as string | undefined) ?? io.env.CONVENE_API_KEY;
    const apiSecret = (v['api-secret'] as string | undefined) ?? io.env.CONVENE_API_SECRET;
    const production = v.production === true || io.env.NODE_ENV === 'production';
    let server;
    try {
      const iceServers = iceServersFromSettings({
        stunUrls: (v['stun-url'] as string | undefined) ?? io.env.CONVENE_STUN_URLS,
        turnUrls: (v['turn-url'] as string | undefined) ?? io.env.CONVENE_TURN_URLS,
        turnSecret: (v['turn-secret'] as string | undefined) ?? io.env.CONVENE_TURN_SECRET,
        turnTtlSeconds: (v['turn-ttl'] as string | undefined) ?? io.env.CONVENE_TURN_TTL,
        turnUsername: (v['turn-username'] as string | undefined) ?? io.env.CONVENE_TURN_USERNAME,
        turnCredential: (v['turn-credential'] as string | undefined) ?? io.env.CONVENE_TURN_CREDENTIAL,
      });
      server = await startServer({
        iceServers,
        port,
        host: v.host as string | undefined,
        apiKey,
        apiSecret,
        production,
        logLevel,
        redisUrl: io.env.REDIS_URL,
        rtcPort,
        rtcProxyPort,
        rtcBindAddress,
        announcedIp,
        mediaTransport,
      });
    } catch (err) {
      io.err(`convene start: ${(err as Error).message}\n`);
      return 1;
    }
    const shown = v.host === undefined ? `http://localhost:${server.port}` : server.url;
    io.out(
      `Convene ${SERVER_VERSION} listening on ${shown}${server.devMode ? ' (dev mode)' : ''}\n` +
        (server.rtcPort !== null
          ? `Media: UDP ${server.rtcPort}${server.announcedIp ? ` (announced as ${server.announcedIp})` : ''}` +
            (server.rtcProxyPort !== null ? `; TURN/TCP relays: UDP ${server.rtcProxyPort}` : '') +
            '\n'
          : '') +
        `API key: ${server.apiKey}\n` +
        `API secret: ${server.apiSecret}\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    return 0;
  },
};

const token: Command = {
  summary: 'Print a client token for a session',
  usage: `Usage: convene token --session <name> [options]

Print an HS256 access token for joining a session.

Options:
  --session <name>    Session name (required)
  --role <role>       ${ROLES.join(' | ')} (default publisher)
  --user-name <name>  Default display name
  --user-identity <s> User identity
  --data <s>          Connection data
  --ttl <seconds>     Lifetime (default 86400)
  --api-key <key>     API key (env CONVENE_API_KEY; required)
  --api-secret <s>    API secret (env CONVENE_API_SECRET; required)
  -h, --help          Show this help
`,
  options: {
    session: { type: 'string' },
    role: { type: 'string' },
    'user-name': { type: 'string' },
    'user-identity': { type: 'string' },
    data: { type: 'string' },
    ttl: { type: 'string' },
    'api-key': { type: 'string' },
    'api-secret': { type: 'string' },
  },
  async run(v, io) {
    const apiKey = (v['api-key'] as string | undefined) ?? io.env.CONVENE_API_KEY;
    const apiSecret = (v['api-secret'] as string | undefined) ?? io.env.CONVENE_API_SECRET;
    const session = v.session as string | undefined;
    const role = ((v.role as string | undefined) ?? 'publisher') as Role;
    const ttl = Number((v.ttl as string | undefined) ?? 86_400);
    const problems: string[] = [];
    if (!session) problems.push('--session is required');
    if (!apiKey || !apiSecret) problems.push('--api-key and --api-secret (or CONVENE_API_KEY/CONVENE_API_SECRET) are required');
    if (!ROLES.includes(role)) problems.push(`--role must be one of ${ROLES.join(', ')}`);
    if (!Number.isInteger(ttl) || ttl <= 0) problems.push('--ttl must be a positive number of seconds');
    if (problems.length > 0) {
      io.err(problems.map((p) => `convene token: ${p}\n`).join('') + '\n' + this.usage);
      return 2;
    }
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { iss: apiKey, tpc: session, role, iat: now, exp: now + ttl };
    if (v['user-name'] !== undefined) claims.user_name = v['user-name'];
    if (v['user-identity'] !== undefined) claims.user_identity = v['user-identity'];
    if (v.data !== undefined) claims.data = v.data;
    io.out(signHs256(claims, apiSecret as string) + '\n');
    return 0;
  },
};

/** The loadtest entry point of @convene/loadtest (loaded at run time: no build dependency on it). */
type LoadtestModule = { runLoadtestCli(argv: string[], io: CliIo): Promise<number> };

const loadtest: Command = {
  summary: 'Load-test a server with bots (synthetic VP8/Opus, no browser)',
  usage: 'Usage: convene loadtest --url <server> --api-key <key> --api-secret <secret> [options]\n',
  options: {},
  run: async () => 2,
  async runRaw(argv, io) {
    const specifier = '@convene/loadtest';
    let mod: LoadtestModule;
    try {
      mod = (await import(specifier)) as LoadtestModule;
    } catch (err) {
      io.err(`convene loadtest: the load tester (@convene/loadtest) is not installed or not built: ${(err as Error).message}\n`);
      return 1;
    }
    return mod.runLoadtestCli(argv, io);
  },
};

const doctor: Command = {
  summary: 'Check connectivity to a server: WebSocket, UDP media, TURN, RTT, bandwidth',
  usage: DOCTOR_USAGE,
  options: {
    url: { type: 'string' },
    'api-key': { type: 'string' },
    'api-secret': { type: 'string' },
    token: { type: 'string' },
    session: { type: 'string' },
    timeout: { type: 'string' },
    ca: { type: 'string' },
    bind: { type: 'string' },
  },
  run: (v, io) => doctorCommand(v, io),
};

/** Subcommands. */
const COMMANDS: Record<string, Command> = { start, token, loadtest, doctor };

function mainUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `Usage: convene <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run 'convene <command> --help' for a command's options.
Options:
  -h, --help      Show this help
  -v, --version   Print the version
`;
}

/** Run the CLI; resolves with the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(mainUsage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(SERVER_VERSION + '\n');
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(`convene: unknown command ${JSON.stringify(name)}\n\n${mainUsage()}`);
    return 2;
  }
  if (cmd.runRaw) return cmd.runRaw(rest, io);
  let values: Values;
  try {
    ({ values } = parseArgs({ args: rest, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    io.err(`convene ${name}: ${(err as Error).message}\n\n${cmd.usage}`);
    return 2;
  }
  if (values.help) {
    io.out(cmd.usage);
    return 0;
  }
  return cmd.run(values, io);
}

/** Entry point of bin/convene.js. */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
  });
  process.exitCode = code;
}
