// Janus VideoRoom (Debian's `janus` package) as a side-by-side reference on 127.0.0.1 only: installed
// when missing, run from a private config folder with only the VideoRoom plugin and the HTTP transport,
// pinned to one core, with the getifaddrs() LD_PRELOAD shim of bench/janus/noloopback.c (see
// ../shared/bench-janus.md for why). Stop it with close().
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureJanusRoom } from '@convene/loadtest';
import { log, pinned } from './media-bench.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
export const JANUS_ROOM = 1234;

/** Installs Debian's janus (and gcc) when missing. */
export function ensureJanusInstalled() {
  const missing = ['janus', 'gcc'].filter((b) => !has(b));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(' ')}: install with apt-get install -y janus gcc (needs root)`);
  log(`installing ${missing.join(' ')} with apt-get…`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing.map((b) => (b === 'gcc' ? 'gcc' : 'janus'))], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** Compiles the getifaddrs() shim into `dir`; returns the .so path. */
export function buildNoLoopbackShim(dir) {
  const so = join(dir, 'noloopback.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', so, join(here, '..', 'janus', 'noloopback.c'), '-ldl']);
  return so;
}

function writeConfig(dir, { eventLoops, port }) {
  const pluginDir = execFileSync('sh', ['-c', 'dirname $(find /usr/lib -name libjanus_videoroom.so | head -1)'], { encoding: 'utf8' }).trim();
  const libDir = dirname(pluginDir);
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
	configs_folder = "${dir}"
	plugins_folder = "${pluginDir}"
	transports_folder = "${libDir}/transports"
	events_folder = "${libDir}/events"
	loggers_folder = "${libDir}/loggers"
	debug_level = 2
	interface = "127.0.0.1"
	server_name = "convene-bench"
	session_timeout = 60
	${eventLoops === null ? '# event_loops: Debian default (one loop thread per handle)' : `event_loops = ${eventLoops}`}
}
certificates: {
}
media: {
	ipv6 = false
}
nat: {
	nice_debug = false
	ice_enforce_list = "lo"
	ignore_mdns = true
}
plugins: {
	disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
	disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so,libjanus_websockets.so"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
events: {
	broadcast = false
}
`,
  );
  writeFileSync(
    join(dir, 'janus.transport.http.jcfg'),
    `general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = ${port}
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
cors: {
}
`,
  );
  writeFileSync(
    join(dir, 'janus.plugin.videoroom.jcfg'),
    `general: {
}
room-${JANUS_ROOM}: {
	description = "convene bench"
	publishers = 6
	bitrate = 2000000
	fir_freq = 10
	audiocodec = "opus"
	videocodec = "vp8"
	record = false
	notify_joining = false
	audiolevel_event = false
}
`,
  );
}

/**
 * Starts Janus pinned to `core`. `eventLoops` null = Debian default threading (a loop per handle),
 * a number = `event_loops = n` in janus.jcfg.
 */
export async function startJanus({ core = 0, eventLoops = null, port = 8088 } = {}) {
  ensureJanusInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'convene-janus-'));
  const shim = buildNoLoopbackShim(dir);
  writeConfig(dir, { eventLoops, port });
  const [cmd, args] = pinned(core, 'janus', ['-F', dir, '-C', join(dir, 'janus.jcfg'), '-o']);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LD_PRELOAD: shim } });
  let output = '';
  const keep = (d) => {
    output = (output + d.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}/janus`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`janus exited with ${child.exitCode}: ${output.slice(-2000)}`);
    try {
      await ensureJanusRoom(url, JANUS_ROOM);
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`janus did not answer on ${url} within 15 s (${err.message}): ${output.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    name: eventLoops === null ? 'janus-default' : `janus-event_loops=${eventLoops}`,
    url,
    pid: child.pid,
    output: () => output,
    close: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(t);
          done();
        });
        child.kill('SIGINT');
      }),
  };
}
