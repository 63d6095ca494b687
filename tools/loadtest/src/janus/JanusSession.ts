import { randomBytes } from 'node:crypto';

/** A Janus message or event (the fields this client reads). */
export interface JanusMessage {
  janus: string;
  transaction?: string;
  sender?: number;
  data?: { id?: number };
  error?: { code: number; reason: string };
  plugindata?: { plugin: string; data: Record<string, unknown> };
  jsep?: { type: 'offer' | 'answer'; sdp: string };
  candidate?: { candidate?: string; sdpMid?: string; completed?: boolean };
}

/** The answer of a plugin request: its `plugindata.data` and the JSEP that came with it. */
export interface PluginResult {
  data: Record<string, unknown>;
  jsep?: { type: 'offer' | 'answer'; sdp: string };
}

const tx = (): string => randomBytes(8).toString('hex');

/**
 * A Janus session over its HTTP API, with one plugin handle (all the load tester needs):
 * synchronous requests answer in the POST, asynchronous ones ("ack") are matched by transaction
 * in the events the long poll brings back. Keep-alives every 20 s keep the session up.
 */
export class JanusSession {
  readonly #base: string;
  #session = 0;
  #handle = 0;
  #polling = false;
  #keepalive: NodeJS.Timeout | undefined;
  readonly #waiting = new Map<string, { resolve: (m: JanusMessage) => void; reject: (e: Error) => void }>();
  /** Trickled candidates from Janus (rare: Janus puts its candidates in its SDP unless full-trickle is on). */
  onTrickle: ((c: { candidate?: string; sdpMid?: string; completed?: boolean }) => void) | null = null;
  /** Janus reported the handle's PeerConnection down (`hangup`) or the session gone. */
  onHangup: ((reason: string) => void) | null = null;

  constructor(url: string) {
    this.#base = url.replace(/\/+$/, '');
  }

  /** Create the session and attach `plugin`. */
  async attach(plugin: string): Promise<void> {
    const s = await this.#post(`${this.#base}`, { janus: 'create' });
    this.#session = s.data?.id ?? 0;
    const h = await this.#post(`${this.#base}/${this.#session}`, { janus: 'attach', plugin });
    this.#handle = h.data?.id ?? 0;
    this.#keepalive = setInterval(() => {
      this.#post(`${this.#base}/${this.#session}`, { janus: 'keepalive' }).catch(() => {});
    }, 20_000);
    this.#keepalive.unref();
  }

  /** A synchronous plugin request (`create`, `listparticipants`, ...). */
  async request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const r = await this.#post(this.#handleUrl(), { janus: 'message', body });
    const data = r.plugindata?.data ?? {};
    if (typeof data.error === 'string') throw new Error(`janus: ${data.error} (${String(data.error_code)})`);
    return data;
  }

  /** An asynchronous plugin request: resolves with its event (and JSEP). */
  async message(body: Record<string, unknown>, jsep?: { type: 'offer' | 'answer'; sdp: string }, timeoutMs = 15_000): Promise<PluginResult> {
    const transaction = tx();
    const event = new Promise<JanusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(transaction);
        reject(new Error(`janus: no answer to ${String(body.request)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(transaction, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    event.catch(() => {});
    this.#startPolling();
    const ack = await this.#post(this.#handleUrl(), { janus: 'message', body, jsep, transaction }, transaction);
    if (ack.janus !== 'ack') this.#settle(ack);
    const m = await event;
    const data = m.plugindata?.data ?? {};
    if (typeof data.error === 'string') throw new Error(`janus: ${data.error} (${String(data.error_code)})`);
    return { data, jsep: m.jsep };
  }

  /** Trickle a candidate (or the end of candidates) to Janus. */
  async trickle(candidate: { candidate: string; sdpMid: string } | { completed: true }): Promise<void> {
    await this.#post(this.#handleUrl(), { janus: 'trickle', candidate });
  }

  /** Stop the long poll once no more events are needed (keep-alives continue). */
  stopPolling(): void {
    this.#polling = false;
  }

  /** Destroy the session (and its handle). Idempotent; never throws. */
  async destroy(): Promise<void> {
    clearInterval(this.#keepalive);
    this.#polling = false;
    for (const w of this.#waiting.values()) w.reject(new Error('janus session destroyed'));
    this.#waiting.clear();
    if (this.#session === 0) return;
    const id = this.#session;
    this.#session = 0;
    await this.#post(`${this.#base}/${id}`, { janus: 'destroy' }).catch(() => {});
  }

  #handleUrl(): string {
    return `${this.#base}/${this.#session}/${this.#handle}`;
  }

  async #post(url: string, msg: Record<string, unknown>, transaction = tx()): Promise<JanusMessage> {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ ...msg, transaction }), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(15_000) });
    const m = (await res.json()) as JanusMessage;
    if (m.janus === 'error') throw new Error(`janus: ${m.error?.reason ?? 'error'} (${m.error?.code ?? res.status})`);
    return m;
  }

  #startPolling(): void {
    if (this.#polling) return;
    this.#polling = true;
    void this.#poll();
  }

  async #poll(): Promise<void> {
    while (this.#polling && this.#session !== 0) {
      try {
        const res = await fetch(`${this.#base}/${this.#session}?maxev=10&rid=${Date.now()}`, { signal: AbortSignal.timeout(40_000) });
        const body = (await res.json()) as JanusMessage | JanusMessage[];
        for (const m of Array.isArray(body) ? body : [body]) this.#onEvent(m);
      } catch (err) {
        if (!this.#polling || this.#session === 0) return;
        for (const w of this.#waiting.values()) w.reject(err as Error);
        this.#waiting.clear();
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  #onEvent(m: JanusMessage): void {
    if (m.janus === 'trickle' && m.candidate) this.onTrickle?.(m.candidate);
    else if (m.janus === 'hangup' || m.janus === 'detached') this.onHangup?.(m.janus);
    else if (m.janus === 'error' && m.error?.code === 458) this.onHangup?.('session gone');
    this.#settle(m);
  }

  #settle(m: JanusMessage): void {
    if (!m.transaction) return;
    const w = this.#waiting.get(m.transaction);
    if (!w || m.janus === 'ack' || m.janus === 'keepalive') return;
    this.#waiting.delete(m.transaction);
    w.resolve(m);
  }
}

/**
 * Create a VideoRoom room for benchmarks (VP8 + Opus, no recording, no joining or audio-level
 * events) unless it exists. Returns the room id.
 */
export async function ensureJanusRoom(url: string, room: number, settings: Record<string, unknown> = {}): Promise<number> {
  const s = new JanusSession(url);
  try {
    await s.attach('janus.plugin.videoroom');
    const exists = await s.request({ request: 'exists', room });
    if (exists.exists === true) return room;
    await s.request({
      request: 'create',
      room,
      publishers: 6,
      bitrate: 2_000_000,
      fir_freq: 10,
      audiocodec: 'opus',
      videocodec: 'vp8',
      record: false,
      notify_joining: false,
      audiolevel_event: false,
      ...settings,
    });
    return room;
  } finally {
    await s.destroy();
  }
}
