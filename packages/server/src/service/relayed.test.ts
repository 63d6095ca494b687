import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, API_SECRET, cleanup, join, startTestServer, type Frame, type TestClient } from '../test-helpers/wsClient.js';
import type { ConveneServer } from './startServer.js';

/*
 * Relayed sessions on the wire: the server relays descriptions and candidates between a stream's publisher
 * and each subscriber and never opens an SFU transport. Raw signaling clients; the SDK's peer-to-peer media
 * is proven in packages/client (Node bots, Chromium) and in the netns topology test.
 */

const basic = 'Basic ' + Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64');
const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const CAND = 'candidate:1 1 udp 2122260223 10.0.0.1 50000 typ host';

describe('relayed sessions: signaling relay', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  let n = 0;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(() => cleanup(server, clients));

  async function relayed(): Promise<string> {
    const name = `relay-${++n}`;
    const r = await fetch(server.url + '/v1/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic },
      body: JSON.stringify({ name, mediaMode: 'relayed' }),
    });
    expect(r.status).toBe(200);
    return name;
  }

  async function member(sid: string, role: 'publisher' | 'subscriber' | 'moderator' = 'publisher'): Promise<TestClient> {
    const { c, result } = await join(server, sid, { role });
    clients.push(c);
    expect(result.mediaMode).toBe(sid.startsWith('relay-') ? 'relayed' : 'routed');
    return c;
  }

  async function published(pub: TestClient, tracks = { audio: true, video: true }): Promise<Frame & { result: { stream: Record<string, unknown>; sdp: unknown } }> {
    const r = await pub.request('publish', { tracks, name: 'p2p', hasAudio: true, hasVideo: true, videoDimensions: { width: 640, height: 480 } });
    expect(r.type).toBe('ok');
    return r as Frame & { result: { stream: Record<string, unknown>; sdp: unknown } };
  }

  it('publish with tracks creates the stream at once (no SDP answer); others get streamCreated', async () => {
    const sid = await relayed();
    const a = await member(sid);
    const b = await member(sid);
    const r = await published(a);
    expect(r.result.sdp).toBeNull();
    expect(r.result.stream).toMatchObject({ name: 'p2p', hasAudio: true, hasVideo: true, videoType: 'camera', videoDimensions: { width: 640, height: 480 } });
    const created = await b.next('streamCreated');
    expect((created.stream as { streamId: string }).streamId).toBe(r.result.stream.streamId);
    const metrics = await (await fetch(server.url + '/metrics')).text();
    expect(metrics).toMatch(/^convene_streams 1$/m);
  });

  it('subscribe relays: peerSubscribe to the publisher, then offer, answer and candidates both ways, each to the other end only', async () => {
    const sid = await relayed();
    const a = await member(sid);
    const b = await member(sid);
    const c = await member(sid);
    const streamId = (await published(a)).result.stream.streamId as string;
    const sr = await b.request('subscribe', { streamId, subscribeToAudio: false });
    expect(sr).toMatchObject({ type: 'ok', result: { sdp: null, audioMid: null, videoMid: null } });
    const subscriberId = (sr.result as { subscriberId: string }).subscriberId;
    const ps = await a.next('peerSubscribe');
    expect(ps).toMatchObject({ subscriberId, streamId, connectionId: b.connectionId, subscribeToAudio: false, subscribeToVideo: true });

    expect(await a.request('peerSignal', { subscriberId, description: { type: 'offer', sdp: SDP } })).toMatchObject({ type: 'ok' });
    expect(await b.next('peerSignal')).toMatchObject({ subscriberId, streamId, description: { type: 'offer', sdp: SDP } });
    expect(await b.request('peerSignal', { subscriberId, description: { type: 'answer', sdp: SDP } })).toMatchObject({ type: 'ok' });
    expect(await a.next('peerSignal')).toMatchObject({ subscriberId, description: { type: 'answer' } });
    await b.request('peerSignal', { subscriberId, candidate: { candidate: CAND, mid: '0' } });
    expect(await a.next('peerSignal')).toMatchObject({ subscriberId, candidate: { candidate: CAND, mid: '0' } });
    await a.request('peerSignal', { subscriberId, candidate: { candidate: CAND, mid: '1' } });
    expect(await b.next('peerSignal')).toMatchObject({ candidate: { mid: '1' } });
    await c.expectNone('peerSignal');
    await c.expectNone('peerSubscribe');

    // A third connection may not talk on someone else's subscription: 404, as for one that does not exist.
    expect(await c.request('peerSignal', { subscriberId, candidate: { candidate: CAND, mid: '0' } })).toMatchObject({ type: 'error', error: { name: 'OT_NOT_FOUND', code: 404 } });
    expect(await c.request('peerSignal', { subscriberId: 'nope', candidate: { candidate: CAND, mid: '0' } })).toMatchObject({ type: 'error', error: { code: 404 } });

    // subscribeToVideo(false) reaches the publisher, who stops sending that kind.
    await b.request('subscription', { subscriberId, subscribeToVideo: false });
    expect(await a.next('peerUpdate')).toMatchObject({ subscriberId, subscribeToVideo: false });

    // Unsubscribe: the publisher is told to close that peer connection; the subscription is gone.
    await b.request('unsubscribe', { subscriberId });
    expect(await a.next('peerClosed')).toMatchObject({ subscriberId, streamId });
    expect(await a.request('peerSignal', { subscriberId, candidate: { candidate: CAND, mid: '0' } })).toMatchObject({ type: 'error', error: { code: 404 } });
  });

  it('a subscriber leaving sends peerClosed; the stream ending sends streamDestroyed (no peerClosed); no SFU transport is ever opened', async () => {
    const sid = await relayed();
    const a = await member(sid);
    const b = await member(sid);
    const streamId = (await published(a)).result.stream.streamId as string;
    const s1 = ((await b.request('subscribe', { streamId })).result as { subscriberId: string }).subscriberId;
    await a.next('peerSubscribe');
    await b.request('leave');
    expect(await a.next('peerClosed')).toMatchObject({ subscriberId: s1 });

    const c = await member(sid);
    await c.request('subscribe', { streamId });
    await a.next('peerSubscribe');
    await a.request('unpublish', { streamId });
    expect(await c.next('streamDestroyed')).toMatchObject({ streamId, reason: 'unpublished' });
    await a.expectNone('peerClosed');
    const metrics = await (await fetch(server.url + '/metrics')).text();
    expect(metrics).toMatch(/^convene_rtp_packets_forwarded_total 0$/m);
    expect(metrics).toMatch(/^convene_media_rooms 0$/m);
    expect(metrics).toMatch(/^convene_media_transports 0$/m);
  });

  it('moderation: forceMuteStream tells the publisher to mute, forceUnpublish ends the stream for everyone', async () => {
    const sid = await relayed();
    const a = await member(sid);
    const b = await member(sid);
    const m = await member(sid, 'moderator');
    const streamId = (await published(a)).result.stream.streamId as string;
    await b.next('streamCreated');
    expect(await m.request('forceMuteStream', { streamId })).toMatchObject({ type: 'ok' });
    expect(await a.next('muteForced')).toMatchObject({ streamId });
    expect(await b.request('forceMuteStream', { streamId })).toMatchObject({ type: 'error', error: { name: 'OT_PERMISSION_DENIED' } });
    expect(await m.request('forceUnpublish', { streamId })).toMatchObject({ type: 'ok' });
    expect(await b.next('streamDestroyed')).toMatchObject({ streamId, reason: 'forceUnpublished' });
  });

  it('bad input: SDP in a relayed publish/subscribe, tracks-only publish in a routed session, peerSignal in a routed session, empty tracks', async () => {
    const sid = await relayed();
    const a = await member(sid);
    expect(await a.request('publish', { sdp: SDP })).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_PARAMETER', message: expect.stringContaining('relayed') } });
    expect(await a.request('publish', { tracks: { audio: false, video: false } })).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_PARAMETER', message: expect.stringContaining('neither') } });
    const streamId = (await published(a)).result.stream.streamId as string;
    expect(await a.request('subscribe', { streamId, sdp: SDP })).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_PARAMETER', message: expect.stringContaining('relayed') } });

    // Moving a stream to a new peer connection is for routed streams (there is no server transport here).
    expect(await a.request('publish', { sdp: SDP, replaceStreamId: streamId })).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_STATE' } });
    expect(await a.request('publish', { tracks: { audio: true, video: true }, replaceStreamId: streamId })).toMatchObject({ type: 'error', error: { code: 400, message: expect.stringContaining('replaceStreamId') } });

    const r = await member('routed-room');
    expect(await r.request('publish', { sdp: SDP, replaceStreamId: 'not-mine' })).toMatchObject({ type: 'error', error: { name: 'OT_NOT_FOUND', code: 404 } });
    expect(await r.request('publish', { tracks: { audio: true, video: true } })).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_PARAMETER', message: expect.stringContaining('SDP offer') } });
    expect(await r.request('peerSignal', { subscriberId: 'x', candidate: { candidate: CAND, mid: '0' } })).toMatchObject({ type: 'error', error: { name: 'OT_INVALID_STATE' } });
  });
});
