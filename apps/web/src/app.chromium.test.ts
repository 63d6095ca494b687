// The meeting app end to end: a real server (dev mode, port 0) serving the built app, and real
// headless Chromium with fake camera and microphone, one browser context per person.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createClient, type VideoClient } from '@convene/client';
import { startServer, type ConveneServer } from '@convene/server';
import { createToken } from '@convene/server-sdk';
import { TcpProxy } from '../../../packages/client/src/test-helpers/TcpProxy.js';
import { ensureAppBuilt, hasChromium, joinMeeting, launch, openPeople, openPreview, shot } from './test-helpers/app.js';

describe.skipIf(!hasChromium)('meeting app in Chromium', () => {
  let server: ConveneServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const newPage = async (viewport = { width: 1280, height: 800 }): Promise<Page> => {
    const ctx = await browser.newContext({ viewport });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => console.error('[page error]', err.message));
    return page;
  };

  beforeAll(async () => {
    ensureAppBuilt();
    server = await startServer({ port: 0, logLevel: 'silent' });
    browser = await launch();
  }, 180_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.close();
  });

  it('the preview shows a moving microphone level and a network result', async () => {
    const page = await newPage();
    await openPreview(page, server.url, { session: 'preview-check', name: 'Pat' });
    const meter = page.getByRole('meter', { name: 'Microphone level' });
    const seen = new Set<string>();
    const t0 = Date.now();
    while (Date.now() - t0 < 6000 && seen.size < 3) {
      seen.add((await meter.getAttribute('aria-valuenow')) ?? '');
      await page.waitForTimeout(100);
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(Math.max(...[...seen].map(Number))).toBeGreaterThan(0);
    await page.getByTestId('net-result').getByText(/ms round trip/).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('net-result').textContent()).toMatch(/(Good|Fair|Poor) connection · \d+ ms round trip · ↓ [\d.]+ (k|M)bit\/s · ↑ [\d.]+ (k|M)bit\/s/);
    expect(await page.locator('.selfview video').evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
    await shot(page, 'preview');
    await page.context().close();
  }, 60_000);

  it('the preview plays a speaker test tone', async () => {
    const page = await newPage();
    await openPreview(page, server.url, { session: 'speaker-check', name: 'Sam' });
    // Count what the tone sends to the output: an AnalyserNode tap on every AudioContext destination.
    await page.evaluate(() => {
      const w = window as unknown as { tonePeak: number };
      w.tonePeak = 0;
      const connect = AudioNode.prototype.connect as (this: AudioNode, ...a: unknown[]) => unknown;
      AudioNode.prototype.connect = function (this: AudioNode, ...args: unknown[]) {
        const dest = args[0];
        if (dest instanceof AudioDestinationNode && this instanceof GainNode) {
          const an = this.context.createAnalyser();
          connect.call(this, an);
          const buf = new Float32Array(an.fftSize);
          const tick = (): void => {
            an.getFloatTimeDomainData(buf);
            for (const v of buf) w.tonePeak = Math.max(w.tonePeak, Math.abs(v));
            if (this.context.state !== 'closed') setTimeout(tick, 20);
          };
          tick();
        }
        return connect.apply(this, args);
      } as typeof AudioNode.prototype.connect;
    });
    await page.getByRole('button', { name: 'Test speaker' }).click();
    await page.getByRole('button', { name: 'Playing…' }).waitFor();
    await page.getByRole('button', { name: 'Test speaker' }).waitFor({ timeout: 5000 });
    expect(await page.evaluate(() => (window as unknown as { tonePeak: number }).tonePeak)).toBeGreaterThan(0.05);
    await page.context().close();
  }, 60_000);

  describe('three people in one session', () => {
    let host: Page;
    let bob: Page;
    let cy: Page;
    const session = 'standup-' + Math.random().toString(36).slice(2, 8);

    beforeAll(async () => {
      host = await newPage();
      bob = await newPage();
      cy = await newPage();
      await joinMeeting(host, server.url, { session, name: 'Ada Host', role: 'host' });
      await joinMeeting(bob, server.url, { session, name: 'Bob', role: 'publisher' });
      await joinMeeting(cy, server.url, { session, name: 'Cy', role: 'publisher' });
    }, 60_000);

    it('everyone sees the others in the user list with their role and count', async () => {
      for (const p of [host, bob, cy]) {
        await openPeople(p);
        await p.getByRole('heading', { name: 'People (3)' }).waitFor({ timeout: 10_000 });
      }
      const list = host.locator('.people');
      expect(await list.locator('li.member').count()).toBe(3);
      expect(await list.locator('li.member', { hasText: 'Ada Host (you)' }).locator('.badge').textContent()).toBe('Host');
      expect(await list.locator('li.member', { hasText: 'Bob' }).locator('.badge').textContent()).toBe('Participant');
      // Participants get no host controls.
      expect(await bob.getByRole('button', { name: /Actions for/ }).count()).toBe(0);
      expect(await bob.getByRole('button', { name: 'End for everyone' }).count()).toBe(0);
      expect(await host.getByRole('button', { name: 'Actions for Bob' }).count()).toBe(1);
    }, 30_000);

    it("each person's video is decoded on the others' screens", async () => {
      const decoded = (p: Page, name: string) =>
        p.waitForFunction(
          (n) => {
            const tile = [...document.querySelectorAll('figure.tile')].find((f) => f.getAttribute('aria-label') === n);
            const v = tile?.querySelector('video');
            return !!v && v.videoWidth > 0 && v.readyState >= 2 && v.currentTime > 0;
          },
          name,
          { timeout: 20_000 },
        ).catch(async (e: Error) => {
          const tiles = await p.evaluate(() =>
            [...document.querySelectorAll('figure.tile')].map((f) => {
              const v = f.querySelector('video');
              return `${f.getAttribute('aria-label')}: video=${!!v} ${v?.videoWidth}x${v?.videoHeight} readyState=${v?.readyState} t=${v?.currentTime}`;
            }),
          );
          throw new Error(`${name} not decoded: ${e.message}\ntiles: ${tiles.join('; ')}`);
        });
      await decoded(host, 'Bob');
      await decoded(host, 'Cy');
      await decoded(bob, 'Ada Host');
      await decoded(cy, 'Bob');
      await shot(host, 'gallery');
    }, 60_000);

    it('someone speaking (the fake microphone beeps) is highlighted as the active speaker', async () => {
      await host.locator('figure.tile[data-speaking="true"]').first().waitFor({ timeout: 20_000 });
    }, 30_000);

    it('a shared screen is shown large to the others and listed as sharing', async () => {
      await bob.getByRole('button', { name: 'Share screen' }).click();
      await host.waitForFunction(
        () => {
          const v = document.querySelector('.screen-share figure.tile[data-kind="screen"] video') as HTMLVideoElement | null;
          return !!v && v.videoWidth > 0 && v.readyState >= 2;
        },
        undefined,
        { timeout: 20_000 },
      );
      await openPeople(host);
      await host.locator('.people li.member', { hasText: 'Bob' }).getByRole('img', { name: 'sharing screen' }).waitFor();
      await shot(host, 'screen-share');
      await bob.getByRole('button', { name: 'Stop sharing' }).click();
      await host.locator('.screen-share').waitFor({ state: 'detached' });
    }, 45_000);

    it('when the host locks screen sharing, participants are told and cannot share', async () => {
      await host.getByRole('button', { name: 'Lock sharing' }).click();
      await bob.locator('.notice', { hasText: 'Screen sharing is locked' }).waitFor();
      expect(await bob.getByRole('button', { name: 'Share screen' }).isDisabled()).toBe(true);
      await host.getByRole('button', { name: 'Unlock sharing' }).click();
      await bob.locator('.controls button:not([disabled])', { hasText: 'Share screen' }).waitFor();
    }, 30_000);

    it('a chat message reaches everyone with its sender and time', async () => {
      await bob.getByRole('button', { name: /^Chat/ }).click();
      await bob.getByLabel('Message', { exact: true }).fill('hello from Bob');
      await bob.getByRole('button', { name: 'Send' }).click();
      await host.getByRole('button', { name: /^Chat/ }).click();
      const msg = host.locator('.chat .messages li', { hasText: 'hello from Bob' });
      await msg.waitFor({ timeout: 10_000 });
      expect(await msg.locator('.from').textContent()).toBe('Bob');
      expect(await msg.locator('time').textContent()).toMatch(/\d/);
      await bob.locator('.chat .messages li.self', { hasText: 'hello from Bob' }).waitFor({ timeout: 10_000 });
      await host.getByLabel('Message', { exact: true }).fill('hi Bob');
      await host.getByRole('button', { name: 'Send' }).click();
      await bob.locator('.chat .messages li', { hasText: 'hi Bob' }).locator('.from', { hasText: 'Ada Host' }).waitFor({ timeout: 10_000 });
      await shot(host, 'chat');
    }, 30_000);

    it('the host renames a participant and everyone sees the new name', async () => {
      await openPeople(host);
      await host.getByRole('button', { name: 'Actions for Cy' }).click();
      await host.getByRole('group', { name: 'Actions for Cy' }).getByRole('button', { name: 'Rename' }).click();
      await host.getByLabel('New name for Cy').fill('Cy Young');
      await host.getByRole('button', { name: 'Save' }).click();
      for (const p of [host, bob, cy]) {
        await openPeople(p);
        await p.locator('.people li.member', { hasText: 'Cy Young' }).waitFor();
      }
      await cy.locator('.people li.member', { hasText: 'Cy Young (you)' }).waitFor();
    }, 30_000);

    it('a participant made manager gets the manager controls, and loses them when revoked', async () => {
      await host.getByRole('button', { name: 'Actions for Bob' }).click();
      await host.getByRole('group', { name: 'Actions for Bob' }).getByRole('button', { name: 'Make manager' }).click();
      await bob.locator('.people li.member', { hasText: 'Bob (you)' }).locator('.badge', { hasText: 'Manager' }).waitFor();
      await bob.getByRole('button', { name: 'Lock sharing' }).waitFor();
      await bob.getByRole('button', { name: 'Actions for Cy Young' }).waitFor();
      expect(await bob.getByRole('button', { name: 'End for everyone' }).count()).toBe(0);
      await host.getByRole('button', { name: 'Actions for Bob' }).click();
      await host.getByRole('group', { name: 'Actions for Bob' }).getByRole('button', { name: 'Revoke manager' }).click();
      await bob.locator('.people li.member', { hasText: 'Bob (you)' }).locator('.badge', { hasText: 'Participant' }).waitFor();
      expect(await bob.getByRole('button', { name: 'Lock sharing' }).count()).toBe(0);
    }, 30_000);

    it('the host mutes a participant: they are told, their mic turns off, everyone sees it', async () => {
      await openPeople(host);
      await host.getByRole('button', { name: 'Actions for Bob' }).click();
      await host.getByRole('group', { name: 'Actions for Bob' }).getByRole('button', { name: 'Mute', exact: true }).click();
      await bob.locator('.notice', { hasText: /muted/ }).waitFor({ timeout: 10_000 });
      await bob.locator('.controls').getByRole('button', { name: 'Unmute' }).waitFor({ timeout: 10_000 });
      await openPeople(cy);
      await cy.locator('li.member', { hasText: 'Bob' }).getByRole('img', { name: 'microphone off' }).waitFor({ timeout: 10_000 });
      await shot(host, 'people');
    }, 30_000);

    it('the host asks a muted participant to unmute; they accept and everyone sees them unmuted', async () => {
      await host.getByRole('button', { name: 'Actions for Bob' }).click();
      await host.getByRole('group', { name: 'Actions for Bob' }).getByRole('button', { name: 'Ask to unmute' }).click();
      const ask = bob.locator('.notice', { hasText: 'asks you to unmute' });
      await ask.waitFor();
      await ask.getByRole('button', { name: 'Unmute' }).click();
      await bob.locator('.controls').getByRole('button', { name: 'Mute', exact: true }).waitFor();
      await cy.locator('li.member', { hasText: 'Bob' }).getByRole('img', { name: 'microphone on' }).waitFor();
    }, 30_000);

    it('the host removes a participant, who is told why and can join again', async () => {
      await host.getByRole('button', { name: 'Actions for Cy Young' }).click();
      await host.getByRole('group', { name: 'Actions for Cy Young' }).getByRole('button', { name: 'Remove' }).click();
      await cy.getByRole('heading', { name: 'You were removed from the session' }).waitFor({ timeout: 10_000 });
      await host.getByRole('heading', { name: 'People (2)' }).waitFor({ timeout: 10_000 });
      await shot(cy, 'removed');
      await cy.getByRole('button', { name: 'Join again' }).click();
      await cy.getByLabel('Session name').waitFor();
      expect(await cy.getByLabel('Session name').inputValue()).toBe(session);
    }, 30_000);

    it('the host ends the session and the others see that the host ended it', async () => {
      await host.getByRole('button', { name: 'End for everyone' }).click();
      await host.getByRole('button', { name: 'Confirm end' }).click();
      await bob.getByRole('heading', { name: 'The host ended the session' }).waitFor({ timeout: 10_000 });
      await host.getByRole('heading', { name: 'You ended the session for everyone' }).waitFor({ timeout: 10_000 });
      // The SDK is torn down: camera and microphone are released.
      const live = await bob.evaluate(() => [...document.querySelectorAll('video')].length);
      expect(live).toBe(0);
      await shot(bob, 'ended');
    }, 30_000);
  });
  it('a relayed (peer-to-peer) session works in the app: each person sees the other, and nothing passes through the SFU', async () => {
    const r = await fetch(`${server.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${server.apiKey}:${server.apiSecret}`).toString('base64') },
      body: JSON.stringify({ name: 'p2p-room', mediaMode: 'relayed' }),
    });
    expect(r.status).toBe(200);
    const forwarded = async (): Promise<number> => Number(/^convene_rtp_packets_forwarded_total (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? -1);
    const before = await forwarded();
    const ria = await newPage();
    const max = await newPage();
    await joinMeeting(ria, server.url, { session: 'p2p-room', name: 'Ria', role: 'host' });
    await joinMeeting(max, server.url, { session: 'p2p-room', name: 'Max' });
    const decoded = (p: Page, name: string) =>
      p.waitForFunction(
        (n) => {
          const v = [...document.querySelectorAll('figure.tile')].find((f) => f.getAttribute('aria-label') === n)?.querySelector('video');
          return !!v && v.videoWidth > 0 && v.readyState >= 2 && v.currentTime > 0;
        },
        name,
        { timeout: 20_000 },
      );
    await decoded(ria, 'Max');
    await decoded(max, 'Ria');
    expect(await forwarded()).toBe(before);
    await ria.context().close();
    await max.context().close();
  }, 60_000);

  it('the join form works from the keyboard alone', async () => {
    const page = await newPage();
    await page.goto(server.url);
    await page.getByLabel('Session name').waitFor();
    await shot(page, 'join');
    await page.getByLabel('Session name').focus();
    await page.keyboard.type('keyboard-only');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Kim');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Ready to join/ }).waitFor();
    await page.locator('main.preview button[type=submit]:not([disabled])').waitFor();
    // The preview puts the keyboard on Join once it is ready.
    await page.waitForFunction(() => document.activeElement?.matches('main.preview button[type=submit]') === true);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Meeting controls' }).waitFor();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el ? getComputedStyle(el).outlineStyle : 'none';
    });
    expect(focused).not.toBe('none');
    await page.context().close();
  }, 30_000);

  it('a wrong passcode is refused with a clear message and the person can try again', async () => {
    const host = await newPage();
    const guest = await newPage();
    await joinMeeting(host, server.url, { session: 'locked-room', name: 'Hana', role: 'host', passcode: 'open1' });
    await openPreview(guest, server.url, { session: 'locked-room', name: 'Gus', passcode: 'wrong' });
    await guest.locator('main.preview button[type=submit]:not([disabled])').waitFor();
    await guest.getByRole('button', { name: 'Join', exact: true }).click();
    await guest.getByRole('heading', { name: 'Could not join' }).waitFor();
    expect(await guest.locator('main.ended').textContent()).toMatch(/passcode/i);
    await guest.getByRole('button', { name: 'Join again' }).click();
    await guest.getByLabel('Passcode').fill('open1');
    await guest.getByRole('button', { name: 'Join' }).click();
    await guest.locator('main.preview button[type=submit]:not([disabled])').waitFor();
    await guest.getByRole('button', { name: 'Join', exact: true }).click();
    await guest.getByRole('navigation', { name: 'Meeting controls' }).waitFor();
    await host.context().close();
    await guest.context().close();
  }, 45_000);

  it('fits a narrow window: no sideways scrolling, controls reachable', async () => {
    const page = await newPage({ width: 360, height: 740 });
    await joinMeeting(page, server.url, { session: 'narrow', name: 'Nia', role: 'host' });
    await page.getByRole('button', { name: /^Chat/ }).click();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const leave = await page.getByRole('button', { name: 'Leave' }).boundingBox();
    expect(leave && leave.x >= 0 && leave.x + leave.width <= 360).toBe(true);
    await shot(page, 'narrow');
    await page.getByRole('button', { name: 'Leave' }).click();
    await page.getByRole('heading', { name: 'You left the session' }).waitFor();
    await page.context().close();
  }, 30_000);

  it('shows a reconnecting banner while the connection is down and a notice when it is back', async () => {
    const proxy = await TcpProxy.start(server.url);
    try {
      const page = await newPage();
      await joinMeeting(page, proxy.url, { session: 'flaky', name: 'Rae', role: 'host' });
      proxy.refuse(true);
      proxy.cut();
      await page.getByRole('alert').filter({ hasText: 'Reconnecting' }).waitFor({ timeout: 15_000 });
      await shot(page, 'reconnecting');
      proxy.refuse(false);
      await page.locator('.notice', { hasText: 'Reconnected' }).waitFor({ timeout: 15_000 });
      expect(await page.getByRole('alert').filter({ hasText: 'Reconnecting' }).count()).toBe(0);
      await page.context().close();
    } finally {
      await proxy.close();
    }
  }, 45_000);

  it('tells a host left alone that the session ended after being idle', async () => {
    const idle = await startServer({ port: 0, logLevel: 'silent', sessionIdleTimeoutMins: 0.05 });
    try {
      const page = await newPage();
      await joinMeeting(page, idle.url, { session: 'quiet', name: 'Ida', role: 'host' });
      await page.getByRole('heading', { name: 'The session ended after being idle' }).waitFor({ timeout: 15_000 });
      await page.context().close();
    } finally {
      await idle.close();
    }
  }, 30_000);
  it('blocked camera and microphone get a clear message, and the person joins without them', async () => {
    const denied = await launch('deny');
    try {
      const page = await denied.newPage({ viewport: { width: 1280, height: 800 } });
      page.setDefaultTimeout(10_000);
      await openPreview(page, server.url, { session: 'no-devices', name: 'Dee', role: 'host' });
      await page.getByRole('alert').filter({ hasText: 'Access to the microphone is blocked' }).waitFor();
      await page.getByRole('alert').filter({ hasText: 'Access to the camera is blocked' }).waitFor();
      await page.getByText('You can join without camera and microphone.').waitFor();
      await shot(page, 'preview-blocked');
      await page.getByRole('button', { name: 'Join', exact: true }).click();
      await page.getByRole('navigation', { name: 'Meeting controls' }).waitFor();
      await openPeople(page);
      const me = page.locator('.people li.member', { hasText: 'Dee (you)' });
      await me.getByRole('img', { name: 'no microphone' }).waitFor();
      await me.getByRole('img', { name: 'no camera' }).waitFor();
    } finally {
      await denied.close();
    }
  }, 45_000);
  it('the gallery pages at 25 tiles', async () => {
    // 25 people join from Node (signaling only), then one from the browser: 26 tiles, two pages.
    const bots: VideoClient[] = [];
    try {
      for (let i = 0; i < 25; i++) {
        const r = await fetch(`${server.url}/dev/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sessionName: 'big-room', userName: `Bot ${i + 1}`, role: 'publisher' }),
        });
        const { token } = (await r.json()) as { token: string };
        const c = createClient();
        await c.init('en-US', 'Global', { serverUrl: server.url });
        await c.join('big-room', token, `Bot ${i + 1}`);
        bots.push(c);
      }
      const page = await newPage();
      await joinMeeting(page, server.url, { session: 'big-room', name: 'Pia', role: 'publisher' });
      await page.getByText('Page 1 of 2').waitFor();
      expect(await page.locator('.gallery figure.tile').count()).toBe(25);
      expect(await page.locator('.gallery figure.tile').first().getAttribute('aria-label')).toBe('Pia (you)');
      await page.getByRole('button', { name: 'Next page' }).click();
      await page.getByText('Page 2 of 2').waitFor();
      expect(await page.locator('.gallery figure.tile').count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
      await page.context().close();
    } finally {
      await Promise.all(bots.map((b) => b.destroy()));
    }
  }, 60_000);
  describe('production mode', () => {
    let prod: ConveneServer;
    const apiKey = 'prod_key';
    const apiSecret = 'prod-secret-0123456789abcdef';
    beforeAll(async () => {
      prod = await startServer({ port: 0, logLevel: 'silent', apiKey, apiSecret, production: true });
    });
    afterAll(async () => {
      await prod?.close();
    });

    it('without a token the app explains that a meeting link is needed and offers no role picker', async () => {
      const page = await newPage();
      await page.goto(prod.url);
      await page.getByText(/production mode: open the meeting link/).waitFor();
      expect(await page.getByLabel('Role').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Join' }).isDisabled()).toBe(true);
      await page.context().close();
    }, 30_000);

    it('joins with the token from the link, which leaves the address bar', async () => {
      const token = await createToken({ apiKey, apiSecret, sessionId: 'board', role: 'publisher' });
      const page = await newPage();
      await page.goto(`${prod.url}/?session=board&token=${encodeURIComponent(token)}&name=Zed`);
      const sessionField = page.getByLabel('Session name');
      expect(await sessionField.inputValue()).toBe('board');
      expect(await sessionField.getAttribute('readonly')).not.toBeNull();
      expect(await page.getByLabel('Display name').inputValue()).toBe('Zed');
      expect(page.url()).not.toContain('token=');
      await page.getByRole('button', { name: 'Join' }).click();
      await page.locator('main.preview button[type=submit]:not([disabled])').waitFor();
      await page.getByRole('button', { name: 'Join', exact: true }).click();
      await page.getByRole('navigation', { name: 'Meeting controls' }).waitFor();
      await openPeople(page);
      await page.locator('.people li.member', { hasText: 'Zed (you)' }).waitFor();
      await page.context().close();
    }, 30_000);

    it('joins with a token posted by the embedding page (iframe)', async () => {
      const token = await createToken({ apiKey, apiSecret, sessionId: 'embedded', role: 'publisher' });
      const page = await newPage();
      // The embedding page: same origin here, so about:blank with an iframe on the app.
      await page.goto(`${prod.url}/healthz`);
      await page.evaluate(
        ({ url, token }) => {
          document.body.innerHTML = '';
          window.addEventListener('message', (e) => {
            if ((e.data as { type?: string })?.type === 'convene:ready') {
              (e.source as Window).postMessage({ type: 'convene:token', sessionName: 'embedded', token, userName: 'Ivy' }, '*');
            }
          });
          const f = document.createElement('iframe');
          f.allow = 'camera; microphone; display-capture';
          f.style.width = '1000px';
          f.style.height = '700px';
          f.src = url;
          document.body.append(f);
        },
        { url: prod.url + '/', token },
      );
      const app = page.frameLocator('iframe');
      await app.locator('#f-session[readonly]').waitFor();
      expect(await app.getByLabel('Session name').inputValue()).toBe('embedded');
      expect(await app.getByLabel('Display name').inputValue()).toBe('Ivy');
      await app.getByRole('button', { name: 'Join' }).click();
      await app.locator('main.preview button[type=submit]:not([disabled])').waitFor();
      await app.getByRole('button', { name: 'Join', exact: true }).click();
      await app.getByRole('navigation', { name: 'Meeting controls' }).waitFor();
      await page.context().close();
    }, 30_000);
  });
});
