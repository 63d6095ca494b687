/**
 * One meeting: the SDK objects for it and the state the UI renders. The UI calls the methods,
 * re-renders on `onChange`, and never touches the SDK itself.
 *
 * Lifecycle (sessions guide): `createClient()` → `init()` → `join()`; in session the facade gives
 * users, roles and host controls, `client.getSession()` gives signals and media; on any end
 * (left, ended by the host, removed, idle timeout, network) everything is torn down with
 * `destroyClient()` and a new Meeting can be created to join again.
 */
import type { Grant } from './auth.js';
import {
  OT,
  createClient,
  type Capabilities,
  type Participant,
  type Publisher,
  type Session,
  type Stream,
  type Subscriber,
  type VideoClient,
} from './sdk.js';

type StreamInfo = Stream;

/** Why the meeting ended, as shown on the post-session screen. */
export type EndReason = 'left' | 'ended' | 'endedByMe' | 'kicked' | 'idleTimeout' | 'network' | 'failed';

/** A person in the session. */
export interface Member extends Participant {
  isSelf: boolean;
  /** From their camera stream: null when they publish nothing. */
  audioOn: boolean | null;
  videoOn: boolean | null;
  sharing: boolean;
}

/** One video in the gallery (a camera) or on the stage (a screen). */
export interface Tile {
  key: string;
  userId: string;
  name: string;
  kind: 'camera' | 'screen';
  isSelf: boolean;
  /** The `<video>` from the SDK (insertDefaultUI: false), once created. */
  video: HTMLVideoElement | null;
  hasVideo: boolean;
  hasAudio: boolean;
}

export interface ChatMessage {
  id: number;
  fromId: string | null;
  fromName: string;
  text: string;
  at: number;
  self: boolean;
}

export interface Notice {
  id: number;
  tone: 'info' | 'warn' | 'error';
  text: string;
  action?: { label: string; run: () => void };
}

/** What the preview hands over. */
export interface JoinMedia {
  audioTrack: MediaStreamTrack | null;
  videoTrack: MediaStreamTrack | null;
  micOn: boolean;
  camOn: boolean;
}

export interface MeetingState {
  phase: 'joining' | 'in' | 'ended';
  reconnecting: boolean;
  topic: string;
  selfId: string;
  members: Member[];
  tiles: Tile[];
  chat: ChatMessage[];
  activeSpeaker: string | null;
  shareLocked: boolean;
  caps: Capabilities | null;
  isHost: boolean;
  isManager: boolean;
  micOn: boolean;
  camOn: boolean;
  sharing: boolean;
  publishing: boolean;
  /** Whether this SDK/browser can do media at all. */
  mediaAvailable: boolean;
  /** Chat and session controls need `client.getSession()`. */
  signalsAvailable: boolean;
  notices: Notice[];
  endReason: EndReason | null;
  endDetail: string;
}

/** Chat message size: the server's signal data limit is 8 kB. */
export const CHAT_MAX_CHARS = 2000;
/** Speaking threshold on the SDK's 0..1 audio level. */
const SPEAKING_LEVEL = 0.08;
/** Keep the highlight this long after someone stops, so it does not flicker. */
const SPEAKER_HOLD_MS = 1200;

let nextId = 1;

/**
 * @example
 * const m = new Meeting(grant, { userName: 'Ada', passcode: '', media });
 * m.onChange = () => render(m.state);
 * await m.join();
 */
export class Meeting {
  state: MeetingState;
  /** Called after every state change. */
  onChange: () => void = () => {};

  readonly #grant: Grant;
  readonly #userName: string;
  readonly #passcode: string;
  readonly #media: JoinMedia;
  #client: VideoClient | null = null;
  #session: Session | null = null;
  #publisher: Publisher | null = null;
  #screen: Publisher | null = null;
  readonly #subscribers = new Map<string, Subscriber>();
  /** streamId → stream, for everyone's streams (ours included). */
  readonly #streams = new Map<string, StreamInfo>();
  readonly #videos = new Map<string, HTMLVideoElement>();
  readonly #levels = new Map<string, { level: number; at: number }>();
  #speakerTimer: ReturnType<typeof setInterval> | null = null;
  #speakerSince = 0;
  #tornDown = false;
  /** leave(true) by someone allowed to end the session. */
  #ending = false;
  #mutedAt = 0;

  constructor(grant: Grant, opts: { userName: string; passcode: string; media: JoinMedia }) {
    this.#grant = grant;
    this.#userName = opts.userName;
    this.#passcode = opts.passcode;
    this.#media = opts.media;
    this.state = {
      phase: 'joining',
      reconnecting: false,
      topic: grant.sessionName,
      selfId: '',
      members: [],
      tiles: [],
      chat: [],
      activeSpeaker: null,
      shareLocked: false,
      caps: null,
      isHost: false,
      isManager: false,
      micOn: opts.media.micOn && !!opts.media.audioTrack,
      camOn: opts.media.camOn && !!opts.media.videoTrack,
      sharing: false,
      publishing: false,
      mediaAvailable: OT.checkSystemRequirements() === 1,
      signalsAvailable: false,
      notices: [],
      endReason: null,
      endDetail: '',
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /** Join the session; rejects (and tears down) when the server refuses. */
  async join(): Promise<void> {
    const client = createClient();
    this.#client = client;
    await client.init('en-US', 'Global', { serverUrl: this.#grant.serverUrl ?? location.origin, apiKey: this.#grant.apiKey });
    client.on('user-added', () => this.#refreshMembers());
    client.on('user-removed', (users) => {
      for (const u of users) this.#levels.delete(u.userId);
      this.#refreshMembers();
    });
    client.on('user-updated', (updates) => {
      for (const u of updates) {
        if (u.isHost && u.userId !== this.state.selfId) this.notify('info', `${this.#nameOf(u.userId)} is now the host`);
        if (u.userId === this.state.selfId && u.isHost) this.notify('info', 'You are now the host');
        if (u.userId === this.state.selfId && u.isManager !== undefined) this.notify('info', u.isManager ? 'You are now a manager' : 'You are no longer a manager');
      }
      this.#refreshMembers();
    });
    client.on('connection-change', ({ state, reason }) => {
      if (state === 'Reconnecting') this.#set({ reconnecting: true });
      else if (state === 'Connected' && this.state.reconnecting) {
        this.#set({ reconnecting: false });
        this.notify('info', 'Reconnected');
      } else if (state === 'Closed' || state === 'Fail') {
        const why: EndReason = this.#ending
          ? 'endedByMe'
          : state === 'Fail'
            ? 'network'
            : reason === 'sessionEnded'
              ? 'ended'
              : reason === 'kicked'
                ? 'kicked'
                : reason === 'idleTimeout'
                  ? 'idleTimeout'
                  : 'left';
        void this.#teardown(why);
      }
    });
    try {
      await client.join(this.#grant.sessionName, this.#grant.token, this.#userName || undefined, this.#passcode || undefined);
    } catch (err) {
      await this.#teardown('failed', (err as Error).message);
      throw err;
    }
    // The OpenTok-style Session under the facade: signals and media.
    const session = client.getSession();
    this.#session = session;
    const info = client.getSessionInfo();
    this.#set({
      phase: 'in',
      selfId: info.userId,
      topic: info.topic,
      shareLocked: info.shareLocked,
      signalsAvailable: session !== null,
      caps: session?.capabilities ?? null,
    });
    if (session) {
      this.#wireSession(session);
      // Streams already in the session were announced while join() was resolving: take them now.
      for (const st of session.streams) if (st.connection.connectionId !== info.userId) this.#onStreamCreated(st);
    }
    this.#refreshMembers();
    this.#speakerTimer = setInterval(() => this.#pickSpeaker(), 250);
    if (this.state.caps?.canPublish !== false) this.#publishCamera();
    else {
      // A viewer's token: release what the preview captured.
      for (const t of [this.#media.audioTrack, this.#media.videoTrack]) t?.stop();
      this.#set({ micOn: false, camOn: false });
    }
  }

  /** Leave; as host with `end`, end the session for everyone. */
  async leave(end = false): Promise<void> {
    const client = this.#client;
    if (!client || this.state.phase !== 'in') return this.#teardown('left');
    this.#ending = end && !!this.state.caps?.canEndSession;
    try {
      await client.leave(end);
    } finally {
      // The connection-change event normally tears down; make sure it happens.
      await this.#teardown(this.#ending ? 'endedByMe' : 'left');
    }
  }

  async #teardown(reason: EndReason, detail = ''): Promise<void> {
    if (this.#tornDown) return;
    this.#tornDown = true;
    if (this.#speakerTimer) clearInterval(this.#speakerTimer);
    for (const s of this.#subscribers.values()) safe(() => s.destroy());
    this.#subscribers.clear();
    for (const p of [this.#publisher, this.#screen]) if (p) safe(() => p.destroy());
    this.#publisher = this.#screen = null;
    for (const t of [this.#media.audioTrack, this.#media.videoTrack]) t?.stop();
    this.#videos.clear();
    this.#streams.clear();
    const client = this.#client;
    this.#client = null;
    this.#session = null;
    // destroyClient(): the SDK is torn down, a new client can join again.
    if (client) await client.destroy().catch(() => {});
    this.#set({ phase: 'ended', endReason: reason, endDetail: detail, reconnecting: false, tiles: [], members: [], sharing: false, publishing: false });
  }

  // ---------------------------------------------------------------- session events

  #wireSession(session: Session): void {
    session.on('signal:chat', (e) => {
      const from = e.from;
      const msg: ChatMessage = {
        id: nextId++,
        fromId: from?.connectionId ?? null,
        fromName: from ? from.userName || 'Guest' : 'Server',
        text: e.data.slice(0, CHAT_MAX_CHARS),
        at: Date.now(),
        self: from?.connectionId === this.state.selfId,
      };
      this.#set({ chat: [...this.state.chat, msg].slice(-500) });
    });
    session.on('capabilitiesChanged', (e) => this.#set({ caps: e.capabilities }));
    session.on('sessionPropertyChanged', (e) => {
      if (e.changedProperty === 'shareLocked') {
        const locked = e.newValue === true;
        this.#set({ shareLocked: locked });
        if (e.by !== this.state.selfId) this.notify('info', locked ? 'Screen sharing is locked by the host' : 'Screen sharing is unlocked');
        if (locked && this.state.sharing && !this.#canShareWhenLocked()) this.stopShare();
      }
    });
    session.on('muteRequested', (e) => {
      const by = this.#nameOf(e.by);
      if (e.action === 'muteAudio') {
        this.#setMic(false);
        this.#mutedNotice(`${by} muted you`);
      } else {
        this.notify('info', `${by} asks you to unmute`, { label: 'Unmute', run: () => this.#setMic(true) });
      }
    });
    session.on('muteForced', (e) => {
      if (e.active) this.notify('warn', 'Everyone was muted by the host');
    });
    session.on('streamCreated', (e) => this.#onStreamCreated(e.stream));
    session.on('streamDestroyed', (e) => this.#onStreamDestroyed(e.stream.streamId));
    session.on('streamPropertyChanged', (e) => {
      this.#streams.set(e.stream.streamId, e.stream);
      this.#refreshTiles();
      this.#refreshMembers();
    });
  }

  #onStreamCreated(stream: StreamInfo): void {
    if (this.#streams.has(stream.streamId) && this.#subscribers.has(stream.streamId)) return;
    this.#streams.set(stream.streamId, stream);
    const session = this.#session;
    if (session && this.state.mediaAvailable && !this.#subscribers.has(stream.streamId)) {
      try {
        const sub = session.subscribe(stream, undefined, { insertDefaultUI: false }, (err) => {
          if (err) this.notify('error', `Could not receive ${stream.name || 'a stream'}: ${err.message}`);
        }) as Subscriber;
        this.#subscribers.set(stream.streamId, sub);
        sub.on('videoElementCreated', (e) => {
          this.#videos.set(stream.streamId, e.element);
          this.#refreshTiles();
        });
        sub.on('audioLevelUpdated', (e) => this.#level(stream.connection.connectionId, e.audioLevel));
      } catch (err) {
        this.notify('error', `Could not receive ${stream.name || 'a stream'}: ${(err as Error).message}`);
      }
    }
    this.#refreshTiles();
    this.#refreshMembers();
  }

  #onStreamDestroyed(streamId: string): void {
    this.#streams.delete(streamId);
    this.#videos.delete(streamId);
    this.#subscribers.delete(streamId);
    this.#refreshTiles();
    this.#refreshMembers();
  }

  // ---------------------------------------------------------------- media

  #publishCamera(): void {
    const session = this.#session;
    if (!session || !this.state.mediaAvailable || (!this.#media.audioTrack && !this.#media.videoTrack)) return;
    let publisher: Publisher;
    try {
      publisher = OT.initPublisher(
        undefined,
        {
          insertDefaultUI: false,
          name: this.#userName,
          // The preview's tracks: no second permission prompt, the same devices.
          audioSource: this.#media.audioTrack ?? null,
          videoSource: this.#media.videoTrack ?? null,
          publishAudio: this.state.micOn,
          publishVideo: this.state.camOn,
        },
        (err) => {
          if (err) return this.notify('error', `Camera/microphone failed: ${err.message}`);
          session.publish(publisher, (perr) => {
            if (perr) this.notify('error', `Could not publish: ${perr.message}`);
            else this.#adoptOwnStream(publisher, 'camera');
          });
        },
      );
    } catch (err) {
      this.notify('error', `Camera/microphone failed: ${(err as Error).message}`);
      return;
    }
    this.#publisher = publisher;
    publisher.on('videoElementCreated', (e) => {
      this.#videos.set('self:camera', e.element);
      this.#refreshTiles();
    });
    publisher.on('audioLevelUpdated', (e) => this.#level(this.state.selfId, e.audioLevel));
    publisher.on('muteForced', () => {
      this.#set({ micOn: false });
      this.#refreshTiles();
      this.#refreshMembers();
      this.#mutedNotice('You were muted by the host');
    });
    publisher.on('streamDestroyed', () => this.#set({ publishing: false }));
    this.#set({ publishing: true });
    this.#refreshTiles();
  }

  #adoptOwnStream(p: Publisher, kind: 'camera' | 'screen'): void {
    const id = p.stream?.streamId;
    const s = id ? this.#session?.streams.find((x) => x.streamId === id) : undefined;
    if (s) this.#streams.set(s.streamId, s);
    if (kind === 'camera') this.#set({ publishing: true });
    this.#refreshTiles();
    this.#refreshMembers();
  }

  #setMic(on: boolean): void {
    if (on && !this.#media.audioTrack) return this.notify('warn', 'No microphone: rejoin after allowing one');
    this.#publisher?.publishAudio(on);
    if (this.#media.audioTrack && !this.#publisher) this.#media.audioTrack.enabled = on;
    this.#set({ micOn: on });
    this.#refreshTiles();
    this.#refreshMembers();
  }

  /** Mute or unmute yourself. */
  toggleMic(): void {
    this.#setMic(!this.state.micOn);
  }

  /** Camera on/off. */
  toggleCam(): void {
    if (!this.#media.videoTrack) return this.notify('warn', 'No camera: rejoin after allowing one');
    const on = !this.state.camOn;
    this.#publisher?.publishVideo(on);
    this.#set({ camOn: on });
    this.#refreshTiles();
    this.#refreshMembers();
  }

  #canShareWhenLocked(): boolean {
    return this.state.isHost || this.state.isManager;
  }

  /** Whether the share button works now, and why not. */
  shareBlockedReason(): string | null {
    if (!this.state.mediaAvailable || !this.#session) return 'Screen sharing is not available';
    if (this.state.caps && !this.state.caps.canPublish) return 'Your role cannot share';
    if (this.state.shareLocked && !this.#canShareWhenLocked()) return 'The host locked screen sharing';
    if (typeof navigator.mediaDevices?.getDisplayMedia !== 'function') return 'This browser cannot share its screen';
    return null;
  }

  /** Start sharing the screen (a second publisher with videoSource 'screen'). */
  startShare(): void {
    const session = this.#session;
    const blocked = this.shareBlockedReason();
    if (blocked || !session || this.#screen) {
      if (blocked) this.notify('warn', blocked);
      return;
    }
    let screen: Publisher;
    try {
      screen = OT.initPublisher(undefined, { insertDefaultUI: false, name: `${this.#userName} (screen)`, videoSource: 'screen', audioSource: null, fitMode: 'contain', mirror: false }, (err) => {
        if (err) {
          this.#screen = null;
          this.#set({ sharing: false });
          if (err.name !== 'OT_USER_MEDIA_ACCESS_DENIED') this.notify('error', `Could not share: ${err.message}`);
          return;
        }
        session.publish(screen, (perr) => {
          if (perr) {
            this.notify('error', `Could not share: ${perr.message}`);
            this.stopShare();
          } else this.#adoptOwnStream(screen, 'screen');
        });
      });
    } catch (err) {
      this.notify('error', `Could not share: ${(err as Error).message}`);
      return;
    }
    this.#screen = screen;
    screen.on('videoElementCreated', (e) => {
      this.#videos.set('self:screen', e.element);
      this.#refreshTiles();
    });
    // Ended from the browser's own "Stop sharing" button: the SDK unpublishes, we forget it.
    screen.on('destroyed', () => {
      if (this.#screen === screen) this.#forgetScreen();
    });
    this.#set({ sharing: true });
    this.#refreshTiles();
  }

  /** Stop sharing. */
  stopShare(): void {
    const screen = this.#screen;
    if (!screen) return;
    this.#forgetScreen();
    const session = this.#session;
    if (screen.stream) safe(() => session?.unpublish(screen));
    safe(() => screen.destroy());
  }

  #forgetScreen(): void {
    const s = this.#screen?.stream;
    if (s) this.#streams.delete(s.streamId);
    this.#screen = null;
    this.#videos.delete('self:screen');
    this.#set({ sharing: false });
    this.#refreshTiles();
    this.#refreshMembers();
  }

  // ---------------------------------------------------------------- chat

  /** Send a chat message to everyone (a signal of type 'chat'). */
  async sendChat(text: string): Promise<void> {
    const t = text.trim().slice(0, CHAT_MAX_CHARS);
    if (!t || !this.#session) return;
    try {
      await this.#session.signal({ type: 'chat', data: t });
    } catch (err) {
      this.notify('error', `Message not sent: ${(err as Error).message}`);
    }
  }

  // ---------------------------------------------------------------- host and manager controls

  async #act(what: string, run: (() => Promise<void>) | undefined): Promise<void> {
    if (!run || !this.#client) return this.notify('warn', `${what} is not available now`);
    try {
      await run();
    } catch (err) {
      this.notify('error', `${what} failed: ${(err as Error).message}`);
    }
  }

  rename(userId: string, name: string): Promise<void> {
    return this.#act('Rename', () => this.#client!.changeName(name, userId));
  }
  /** Mute a user (enforced: the server stops forwarding their audio; they are told). */
  muteUser(userId: string): Promise<void> {
    return this.#act('Mute', () => this.#client!.muteAudio(userId));
  }
  /** Ask a user to unmute: only a request, they decide. */
  askUnmute(userId: string): Promise<void> {
    return this.#act('Ask to unmute', async () => {
      await this.#client!.unmuteAudio(userId);
      this.notify('info', `Asked ${this.#nameOf(userId)} to unmute`);
    });
  }
  removeUser(userId: string): Promise<void> {
    return this.#act('Remove', () => this.#client!.removeUser(userId));
  }
  makeHost(userId: string): Promise<void> {
    return this.#act('Make host', () => this.#client!.makeHost(userId));
  }
  makeManager(userId: string): Promise<void> {
    return this.#act('Make manager', () => this.#client!.makeManager(userId));
  }
  revokeManager(userId: string): Promise<void> {
    return this.#act('Revoke manager', () => this.#client!.revokeManager(userId));
  }
  /** Mute everyone but yourself: the session's forceMuteAll, else one muteAudio per user. */
  muteAll(): Promise<void> {
    const s = this.#session;
    const mine = [this.#publisher?.stream, this.#screen?.stream].flatMap((x) => (x ? [{ streamId: x.streamId }] : []));
    return this.#act('Mute all', s ? () => s.forceMuteAll(mine) : undefined);
  }
  setShareLock(locked: boolean): Promise<void> {
    return this.#act(locked ? 'Lock sharing' : 'Unlock sharing', () => this.#client!.lockShare(locked));
  }

  // ---------------------------------------------------------------- notices

  notify(tone: Notice['tone'], text: string, action?: Notice['action']): void {
    const n: Notice = { id: nextId++, tone, text, action };
    this.#set({ notices: [...this.state.notices, n].slice(-4) });
    if (!action) setTimeout(() => this.dismiss(n.id), tone === 'error' ? 10_000 : 6000);
  }

  /** One notice per mute: the server sends both a mute request (who) and a forced mute (what). */
  #mutedNotice(text: string): void {
    const now = Date.now();
    if (now - this.#mutedAt < 2000) return;
    this.#mutedAt = now;
    this.notify('warn', text);
  }

  dismiss(id: number): void {
    if (this.state.notices.some((n) => n.id === id)) this.#set({ notices: this.state.notices.filter((n) => n.id !== id) });
  }

  // ---------------------------------------------------------------- derived state

  #nameOf(userId: string): string {
    return this.#client?.getUser(userId)?.displayName || this.state.members.find((m) => m.userId === userId)?.displayName || 'Someone';
  }

  #streamsOf(userId: string): StreamInfo[] {
    return [...this.#streams.values()].filter((s) => s.connection.connectionId === userId);
  }

  #refreshMembers(): void {
    const client = this.#client;
    if (!client) return;
    const self = this.state.selfId;
    const members: Member[] = client.getAllUser().map((u) => {
      const mine = u.userId === self;
      const streams = this.#streamsOf(u.userId);
      const cam = streams.find((s) => s.videoType !== 'screen');
      const publishingSelf = mine && this.state.publishing;
      return {
        ...u,
        isSelf: mine,
        audioOn: publishingSelf ? this.state.micOn : cam ? cam.hasAudio : null,
        videoOn: publishingSelf ? this.state.camOn : cam ? cam.hasVideo : null,
        sharing: streams.some((s) => s.videoType === 'screen') || (mine && this.state.sharing),
      };
    });
    const me = members.find((m) => m.isSelf);
    this.#set({ members, isHost: me?.isHost ?? false, isManager: me?.isManager ?? false, caps: this.#session?.capabilities ?? this.state.caps });
    this.#refreshTiles();
  }

  #refreshTiles(): void {
    const self = this.state.selfId;
    const tiles: Tile[] = [];
    // Everyone gets a camera tile (an avatar when there is no video), yourself first.
    for (const m of this.#client?.getAllUser() ?? []) {
      const mine = m.userId === self;
      if (mine) {
        tiles.unshift({
          key: 'self:camera',
          userId: m.userId,
          name: m.displayName,
          kind: 'camera',
          isSelf: true,
          video: this.#videos.get('self:camera') ?? null,
          hasVideo: this.state.camOn && this.#videos.has('self:camera'),
          hasAudio: this.state.micOn,
        });
        continue;
      }
      const cam = this.#streamsOf(m.userId).find((s) => s.videoType !== 'screen');
      tiles.push({
        key: cam ? cam.streamId : `user:${m.userId}`,
        userId: m.userId,
        name: m.displayName,
        kind: 'camera',
        isSelf: false,
        video: cam ? (this.#videos.get(cam.streamId) ?? null) : null,
        hasVideo: !!cam?.hasVideo && this.#videos.has(cam.streamId),
        hasAudio: !!cam?.hasAudio,
      });
    }
    for (const s of this.#streams.values()) {
      if (s.videoType !== 'screen') continue;
      const mine = s.connection.connectionId === self;
      const key = mine ? 'self:screen' : s.streamId;
      tiles.push({ key, userId: s.connection.connectionId, name: this.#nameOf(s.connection.connectionId), kind: 'screen', isSelf: mine, video: this.#videos.get(key) ?? null, hasVideo: true, hasAudio: false });
    }
    if (this.state.sharing && !tiles.some((t) => t.key === 'self:screen') && this.#videos.has('self:screen')) {
      tiles.push({ key: 'self:screen', userId: self, name: `${this.#userName} (screen)`, kind: 'screen', isSelf: true, video: this.#videos.get('self:screen') ?? null, hasVideo: true, hasAudio: false });
    }
    this.#set({ tiles });
  }

  #level(userId: string, level: number): void {
    if (!userId) return;
    const prev = this.#levels.get(userId)?.level ?? 0;
    // Fast attack, slow release, as a VU meter does.
    const smoothed = level > prev ? level : prev * 0.7 + level * 0.3;
    this.#levels.set(userId, { level: smoothed, at: performance.now() });
  }

  #pickSpeaker(): void {
    const now = performance.now();
    let best: string | null = null;
    let bestLevel = SPEAKING_LEVEL;
    for (const [id, { level, at }] of this.#levels) {
      if (now - at > 1000) continue;
      if (id === this.state.selfId && !this.state.micOn) continue;
      if (level > bestLevel) {
        best = id;
        bestLevel = level;
      }
    }
    const current = this.state.activeSpeaker;
    if (best && best !== current) {
      this.#speakerSince = now;
      this.#set({ activeSpeaker: best });
    } else if (best) this.#speakerSince = now;
    else if (current && now - this.#speakerSince > SPEAKER_HOLD_MS) this.#set({ activeSpeaker: null });
  }

  #set(patch: Partial<MeetingState>): void {
    this.state = { ...this.state, ...patch };
    this.onChange();
  }
}

function safe(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // Teardown goes on regardless.
  }
}
