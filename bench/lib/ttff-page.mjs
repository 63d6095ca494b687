// In-page side of the time-to-first-frame benchmark (bench/ttff.mjs).
//
// `instrument` runs in every page BEFORE /sdk/convene.js loads: it subclasses the page's WebSocket and
// RTCPeerConnection (the SDK reads both globals when it creates one, so it gets the subclasses; no SDK
// change) and records, once each, the performance.now() time of every step of joining and subscribing
// in `window.__ttff.marks`. The functions below are passed to page.evaluate(), so they must not close
// over anything of this module.

/** Runs in the page before the SDK (added as an inline <script>). */
export function instrument() {
  const T = (window.__ttff = { t0: 0, marks: {}, pcs: [], frames: [] });
  /** First occurrence only, ms since page start (performance.now()). */
  const mark = (name, at) => {
    if (!(name in T.marks)) T.marks[name] = at ?? performance.now();
  };
  T.mark = mark;

  const NativeWS = window.WebSocket;
  let connectId = -1;
  let subscribeId = -1;
  class InstrumentedWebSocket extends NativeWS {
    constructor(...args) {
      super(...args);
      mark('wsCreated');
      this.addEventListener('open', () => mark('wsOpen'));
      this.addEventListener('message', (e) => {
        if (typeof e.data !== 'string') return;
        let m;
        try {
          m = JSON.parse(e.data);
        } catch {
          return;
        }
        if (m.type === 'hello') mark('helloReceived');
        else if (m.type === 'ok' && m.id === connectId) mark('joinReceived');
        else if ((m.type === 'ok' || m.type === 'error') && m.id === subscribeId) mark('answerReceived');
        else if (m.type === 'streamCreated') mark('streamCreatedReceived');
      });
    }
    send(data) {
      if (typeof data === 'string' && data.length < 65536) {
        try {
          const m = JSON.parse(data);
          if (m.type === 'connect') {
            connectId = m.id;
            mark('connectSent');
          } else if (m.type === 'subscribe') {
            subscribeId = m.id;
            mark('subscribeSent');
          }
        } catch {
          // not JSON: not ours to look at
        }
      }
      super.send(data);
    }
  }
  window.WebSocket = InstrumentedWebSocket;

  const NativePC = window.RTCPeerConnection;
  const watched = new WeakSet();
  class InstrumentedPeerConnection extends NativePC {
    constructor(...args) {
      super(...args);
      T.pcs.push(this);
      mark('pcCreated');
      this.addEventListener('icegatheringstatechange', () => {
        if (this.iceGatheringState === 'complete') mark('iceGatheringComplete');
      });
      this.addEventListener('iceconnectionstatechange', () => {
        const s = this.iceConnectionState;
        if (s === 'checking') mark('iceChecking');
        else if (s === 'connected' || s === 'completed') mark('iceConnected');
      });
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected') mark('pcConnected');
      });
      this.addEventListener('track', (e) => {
        if (e.track.kind === 'video') mark('videoTrackEvent');
        this.#watchTrack(e.track);
      });
    }
    async createOffer(...a) {
      const r = await super.createOffer(...a);
      mark('offerCreated');
      return r;
    }
    async setLocalDescription(...a) {
      await super.setLocalDescription(...a);
      mark('localDescriptionSet');
      this.#watchTransports();
    }
    async setRemoteDescription(...a) {
      mark('remoteDescriptionCalled');
      await super.setRemoteDescription(...a);
      mark('remoteDescriptionSet');
      this.#watchTransports();
    }
    /** DTLS state of every transport (BUNDLE: one), and the receivers' tracks. */
    #watchTransports() {
      for (const t of this.getTransceivers()) {
        if (t.receiver.track) this.#watchTrack(t.receiver.track);
        const dtls = t.receiver.transport;
        if (!dtls || watched.has(dtls)) continue;
        watched.add(dtls);
        const check = () => {
          if (dtls.state === 'connecting') mark('dtlsConnecting');
          else if (dtls.state === 'connected') mark('dtlsConnected');
        };
        dtls.addEventListener('statechange', check);
        check();
      }
    }
    /** A remote track is muted until its first RTP packet arrives: `unmute` = first packet. */
    #watchTrack(track) {
      if (watched.has(track)) return;
      watched.add(track);
      const name = track.kind === 'video' ? 'firstVideoPacket' : 'firstAudioPacket';
      track.addEventListener('unmute', () => mark(name));
    }
  }
  window.RTCPeerConnection = InstrumentedPeerConnection;
}

/** Publisher page: connect, publish the fake camera; resolves with the streamId once publishing. */
export async function startPublisher({ apiKey, sessionId, token, resolution, frameRate }) {
  const OT = window.OT;
  const session = OT.initSession(apiKey, sessionId);
  window.session = session;
  await new Promise((resolve, reject) => session.connect(token, (err) => (err ? reject(err) : resolve())));
  const publisher = await new Promise((resolve, reject) => {
    const pub = OT.initPublisher('publisher', { name: 'ttff', resolution, frameRate, insertMode: 'append', width: 320, height: 240 }, (err) => {
      if (err) reject(new Error(`initPublisher: ${err.message}`));
    });
    session.publish(pub, (err) => (err ? reject(new Error(`publish: ${err.message}`)) : resolve(pub)));
  });
  window.publisher = publisher;
  return publisher.stream.streamId;
}

/** Publisher page: the video encoder's counters (outbound-rtp, video) of the publishing peer connection. */
export async function publisherCounters() {
  const pcs = window.__ttff.pcs;
  const out = { framesEncoded: 0, keyFramesEncoded: 0, pliCount: 0, firCount: 0, framesPerSecond: 0, frameWidth: 0, frameHeight: 0, encoder: '' };
  for (const pc of pcs) {
    if (pc.connectionState !== 'connected') continue;
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type !== 'outbound-rtp' || s.kind !== 'video') return;
      out.framesEncoded += s.framesEncoded ?? 0;
      out.keyFramesEncoded += s.keyFramesEncoded ?? 0;
      out.pliCount += s.pliCount ?? 0;
      out.firCount += s.firCount ?? 0;
      out.framesPerSecond = s.framesPerSecond ?? out.framesPerSecond;
      out.frameWidth = s.frameWidth ?? out.frameWidth;
      out.frameHeight = s.frameHeight ?? out.frameHeight;
      out.encoder = s.encoderImplementation ?? out.encoder;
    });
  }
  return out;
}

/**
 * Subscriber page, one measurement: `session.connect()`, subscribe to the first stream announced (it is
 * in the join result, so `streamCreated` follows `sessionConnected`), and wait for the first frame the
 * <video> presents (requestVideoFrameCallback). Marks are returned relative to t0 = just before connect().
 */
export function measureSubscriber({ apiKey, sessionId, token, timeoutMs }) {
  const OT = window.OT;
  const T = window.__ttff;
  const session = OT.initSession(apiKey, sessionId);
  window.session = session;
  return new Promise((resolve, reject) => {
    const rel = () => Object.fromEntries(Object.entries(T.marks).map(([k, v]) => [k, Math.round((v - T.t0) * 100) / 100]));
    const timer = setTimeout(() => reject(new Error(`no frame within ${timeoutMs} ms; marks: ${JSON.stringify(rel())}`)), timeoutMs);
    session.on('sessionConnected', () => T.mark('sessionConnected'));
    session.on('streamCreated', (e) => {
      if (window.sub) return;
      T.mark('streamCreated');
      const sub = session.subscribe(e.stream, 'subscribers', { insertMode: 'append', width: 320, height: 240 }, (err) => {
        if (err) {
          clearTimeout(timer);
          reject(new Error(`subscribe: ${err.message}`));
        } else T.mark('subscribeCompleted');
      });
      T.mark('subscribeCalled');
      window.sub = sub;
      sub.on('loaded', () => T.mark('subscriberLoaded'));
      const video = sub.element.querySelector('video');
      video.addEventListener('playing', () => T.mark('videoPlaying'), { once: true });
      video.requestVideoFrameCallback((now, meta) => {
        const callbackAt = performance.now();
        // Shown = when Chrome expects the frame on screen. (The callback's own `now` is the start of the rendering
        // step it runs in, which can precede the frame's arrival: not used.) Received = last packet of the frame.
        T.mark('firstFrame', meta.expectedDisplayTime ?? meta.presentationTime ?? callbackAt);
        if (typeof meta.receiveTime === 'number') T.mark('firstFrameReceived', meta.receiveTime);
        clearTimeout(timer);
        const r = (v) => (typeof v === 'number' ? Math.round((v - T.t0) * 100) / 100 : null);
        resolve({
          t0Epoch: Math.round((performance.timeOrigin + T.t0) * 10) / 10,
          marks: rel(),
          frame: {
            // meta times are performance.now()-based; receiveTime: last packet of the frame arrived (WebRTC only).
            receiveTime: r(meta.receiveTime),
            presentationTime: r(meta.presentationTime),
            expectedDisplayTime: r(meta.expectedDisplayTime),
            callbackNow: r(now),
            callbackAt: r(callbackAt),
            processingDurationMs: typeof meta.processingDuration === 'number' ? Math.round(meta.processingDuration * 100000) / 100 : null,
            width: meta.width,
            height: meta.height,
          },
        });
      });
    });
    T.t0 = performance.now();
    session.connect(token, (err) => {
      if (err) {
        clearTimeout(timer);
        reject(new Error(`connect: ${err.message}`));
      } else T.mark('connectCallback');
    });
  });
}

/** Subscriber page, after the measurement: what its video receiver saw (inbound-rtp video, candidate pair). */
export async function subscriberCounters() {
  const out = {
    framesDecoded: 0,
    keyFramesDecoded: 0,
    framesDropped: 0,
    packetsReceived: 0,
    nackCount: 0,
    pliCount: 0,
    firCount: 0,
    freezeCount: 0,
    rttMs: null,
    decoder: '',
    // Cumulative jitter-buffer time (s) and frames/samples that left it, video and audio: the caller takes deltas.
    videoJitterBufferDelay: 0,
    videoJitterBufferEmitted: 0,
    audioJitterBufferDelay: 0,
    audioJitterBufferEmitted: 0,
  };
  for (const pc of window.__ttff.pcs) {
    const report = await pc.getStats();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.framesDecoded += s.framesDecoded ?? 0;
        out.keyFramesDecoded += s.keyFramesDecoded ?? 0;
        out.framesDropped += s.framesDropped ?? 0;
        out.packetsReceived += s.packetsReceived ?? 0;
        out.nackCount += s.nackCount ?? 0;
        out.pliCount += s.pliCount ?? 0;
        out.firCount += s.firCount ?? 0;
        out.decoder = s.decoderImplementation ?? out.decoder;
        out.freezeCount += s.freezeCount ?? 0;
        out.videoJitterBufferDelay += s.jitterBufferDelay ?? 0;
        out.videoJitterBufferEmitted += s.jitterBufferEmittedCount ?? 0;
      } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.audioJitterBufferDelay += s.jitterBufferDelay ?? 0;
        out.audioJitterBufferEmitted += s.jitterBufferEmittedCount ?? 0;
      } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && typeof s.currentRoundTripTime === 'number') {
        out.rttMs = Math.round(s.currentRoundTripTime * 100000) / 100;
      }
    });
  }
  return out;
}
