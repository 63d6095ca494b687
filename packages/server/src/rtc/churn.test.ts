import { afterEach, describe, expect, it } from 'vitest';
import type { ConveneServer } from '../service/startServer.js';
import { API_KEY, API_SECRET, cleanup, join, startTestServer, TestClient, type Frame } from '../test-helpers/wsClient.js';

/** Small seeded PRNG so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One logical connection across its sockets (resumes). */
interface Member {
  id: string;
  sockets: TestClient[];
  initial: Frame[];
  away: boolean;
}

const current = (m: Member): TestClient => m.sockets[m.sockets.length - 1] as TestClient;

/** Every sequenced frame the connection received, across its sockets, in q order, each once. */
function stream(m: Member): Frame[] {
  const out: Frame[] = [];
  let last = 0;
  for (const s of m.sockets)
    for (const f of s.inbox)
      if (typeof f.q === 'number' && f.q > last) {
        expect(f.q).toBe(last + 1);
        out.push(f);
        last = f.q;
      }
  return out;
}

describe('churn', () => {
  let server: ConveneServer;
  const clients: TestClient[] = [];
  afterEach(() => cleanup(server, clients));

  it.each([1, 2, 3, 4, 5, 6])('keeps every connection view consistent and delivers each signal at most once under random joins, leaves, cuts and resumes (seed %i)', async (seed) => {
    server = await startTestServer({ coalesceConnectionEventsAt: 4, coalesceIntervalMs: 15 });
    const rand = prng(seed);
    const live: Member[] = [];
    let signalNo = 0;
    const pick = (): Member => live[Math.floor(rand() * live.length)] as Member;

    for (let step = 0; step < 150; step++) {
      const r = rand();
      if (live.length < 3 || (r < 0.25 && live.length < 12)) {
        const { c, result } = await join(server, 'churn', { role: rand() < 0.3 ? 'host' : 'publisher', userName: `u${step}` });
        clients.push(c);
        live.push({ id: c.connectionId, sockets: [c], initial: [result.connection, ...result.connections] as Frame[], away: false });
      } else if (r < 0.3) {
        // moderation: rename or remove someone (the server decides whether it is allowed)
        const m = pick();
        const t = pick();
        if (m.away) continue;
        if (rand() < 0.6) {
          await current(m).request('moderate', { action: 'rename', target: t.id, userName: `n${step}` });
        } else if (t !== m) {
          const res = await current(m).request('forceDisconnect', { connectionId: t.id });
          if (res.type === 'ok') live.splice(live.indexOf(t), 1);
        }
      } else if (r < 0.35) {
        const m = pick();
        if (m.away) continue;
        await current(m).request('leave');
        live.splice(live.indexOf(m), 1);
      } else if (r < 0.5) {
        const m = pick();
        if (m.away) continue;
        current(m).ws.terminate();
        await current(m).closed;
        m.away = true;
      } else if (r < 0.65) {
        const m = live.find((x) => x.away);
        if (!m) continue;
        const old = current(m);
        const c = await TestClient.open(server);
        clients.push(c);
        c.lastSeq = old.lastSeq;
        c.nextId = old.nextId + 1;
        const res = await c.request('resume', { connectionId: m.id, resumeToken: old.resumeToken, lastSeq: old.lastSeq });
        expect(res.type).toBe('ok');
        c.resumeToken = old.resumeToken;
        m.sockets.push(c);
        m.away = false;
      } else {
        const m = pick();
        if (m.away) continue;
        const c = current(m);
        if (rand() < 0.5) c.ack();
        // not awaited: signals overlap with the next operations
        c.send({ type: 'signal', id: c.nextId, signalType: 'n', data: String(signalNo++) });
        c.nextId = c.nextId + 1;
      }
    }
    // Bring everyone back, let coalesced events flush, and drain.
    for (const m of live.filter((x) => x.away)) {
      const old = current(m);
      const c = await TestClient.open(server);
      clients.push(c);
      c.lastSeq = old.lastSeq;
      c.nextId = old.nextId + 1;
      expect((await c.request('resume', { connectionId: m.id, resumeToken: old.resumeToken, lastSeq: old.lastSeq })).type).toBe('ok');
      m.sockets.push(c);
      m.away = false;
    }
    await new Promise((r) => setTimeout(r, 50));
    for (const m of live) await current(m).roundTrip();

    const auth = 'Basic ' + Buffer.from(`${API_KEY}:${API_SECRET}`).toString('base64');
    const list = (await (await fetch(server.url + '/v1/sessions/churn/connections', { headers: { authorization: auth } })).json()) as {
      connections: { connectionId: string }[];
    };
    const truth = list.connections.map((c) => c.connectionId).sort();
    expect(truth).toEqual(live.map((m) => m.id).sort());
    const standing = (c: Frame): unknown => ({ userName: c.userName, isHost: c.isHost, isManager: c.isManager });
    const truthById = Object.fromEntries(list.connections.map((c) => [c.connectionId, standing(c as unknown as Frame)]));
    expect(list.connections.filter((c) => (c as unknown as Frame).isHost).length).toBeLessThanOrEqual(1);

    for (const m of live) {
      const view = new Map<string, Frame>(m.initial.map((c) => [c.connectionId as string, c]));
      const seen = new Set<string>();
      for (const f of stream(m)) {
        if (f.type === 'connectionCreated')
          for (const c of f.connections as Frame[]) {
            expect(view.has(c.connectionId as string), `duplicate connectionCreated for ${c.connectionId as string}`).toBe(false);
            view.set(c.connectionId as string, c);
          }
        else if (f.type === 'connectionDestroyed')
          for (const c of f.connections as { connectionId: string }[]) {
            expect(view.has(c.connectionId), `connectionDestroyed for unknown ${c.connectionId}`).toBe(true);
            view.delete(c.connectionId);
          }
        else if (f.type === 'connectionUpdated') {
          const c = f.connection as Frame;
          expect(view.has(c.connectionId as string), 'connectionUpdated for an unknown connection').toBe(true);
          view.set(c.connectionId as string, c);
        } else if (f.type === 'signal') {
          const key = `${f.from as string}:${f.data as string}`;
          expect(seen.has(key), `signal ${key} delivered twice`).toBe(false);
          seen.add(key);
          expect(view.has(f.from as string), 'signal from a connection not yet announced').toBe(true);
        }
      }
      expect([...view.keys()].sort()).toEqual(truth);
      for (const [id, c] of view) expect(standing(c), `${id} as seen by ${m.id}`).toEqual(truthById[id]);
    }
  }, 60_000);
});
