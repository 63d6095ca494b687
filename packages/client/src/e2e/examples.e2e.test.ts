import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, hasChromium, startE2E, type E2E } from './test-helpers/e2e.js';

/*
 * The reference's own examples, run in pages that load /sdk/convene.js with a plain <script> tag. The
 * code is the reference's, statement for statement; only the apiKey/sessionID/token (and the
 * example's free `targetElement`) lines are filled in, and its comments are left out.
 */

const connectExample = (apiKey: string, sessionID: string, token: string): string => `
 var apiKey = ${JSON.stringify(apiKey)};
 var sessionID = ${JSON.stringify(sessionID)};
 var token = ${JSON.stringify(token)};

 var session = OT.initSession(apiKey, sessionID);
 session.connect(token, function(error) {
   if (error) {
     console.log(error.message);
   } else {
   }
 });
`;

// The unpublish example (connect, initPublisher('publisher'), publish; a link that unpublishes).
const publishExample = (apiKey: string, sessionID: string, token: string): string => `
<script>
  var apiKey = ${JSON.stringify(apiKey)};
  var sessionID = ${JSON.stringify(sessionID)};
  var token = ${JSON.stringify(token)};
  var publisher;
  var session = OT.initSession(apiKey, sessionID);
  session.connect(token, function(error) {
    if (error) {
      console.log(error.message);
    } else {
      publisher = OT.initPublisher('publisher');
      session.publish(publisher);
    }
  });

  function unpublish() {
    session.unpublish(publisher);
  }
</script>

<body>

    <div id="publisherContainer/>
    <br/>

    <a href="javascript:unpublish()">Stop Publishing</a>

</body>
`;

// The subscribe example: subscribe to every stream on streamCreated.
const subscribeExample = (apiKey: string, sessionID: string, token: string): string => `
var apiKey = ${JSON.stringify(apiKey)};
var sessionID = ${JSON.stringify(sessionID)};
var token = ${JSON.stringify(token)};
var targetElement = 'subscriber';

var session = OT.initSession(apiKey, sessionID);
session.on("streamCreated", function(event) {
  subscriber = session.subscribe(event.stream, targetElement);
});
session.connect(token);
`;

/** A page whose only script besides the SDK is `body` (HTML) or `script` (inline JS). */
const htmlWith = (opts: { body?: string; script?: string }): string =>
  `<!doctype html><html><head><meta charset="utf-8"><script src="SDK_URL"></script></head><body>` +
  `<div id="publisher"></div><div id="subscriber"></div>${opts.body ?? ''}${opts.script ? `<script>${opts.script}</script>` : ''}</body></html>`;

let e2e: E2E;
const pages: Page[] = [];
beforeAll(async () => {
  if (hasChromium) e2e = await startE2E();
}, 60_000);
afterAll(async () => {
  await Promise.all(pages.map((p) => p.close().catch(() => undefined)));
  await e2e?.close();
});

async function open(html: string): Promise<Page> {
  const p = await e2e.page(html);
  pages.push(p);
  return p;
}

describe.skipIf(!hasChromium)("the reference's examples, unchanged, on /sdk/convene.js", () => {
  it('connect(token, completionHandler) connects without a serverUrl: the SDK talks to the server it came from', async () => {
    const sid = `example-connect-${Date.now()}`;
    const p = await open(htmlWith({ script: connectExample(API_KEY, sid, await e2e.token(sid)) }));
    const id = await p.waitForFunction(() => (window as any).session?.connection?.connectionId, undefined, { timeout: 10_000 });
    expect(typeof (await id.jsonValue())).toBe('string');
  });

  it('initPublisher + publish on one page, subscribe on streamCreated on another: video decodes; Stop Publishing unpublishes and both views go', async () => {
    const sid = `example-media-${Date.now()}`;
    const a = await open(htmlWith({ body: publishExample(API_KEY, sid, await e2e.token(sid)) }));
    const b = await open(htmlWith({ script: subscribeExample(API_KEY, sid, await e2e.token(sid)) }));
    // Subscriber page: a <video> replaces the contents of #subscriber and decodes frames.
    const framesOnB = (): Promise<number> =>
      b.evaluate(async () => {
        // Until the example assigns it, window.subscriber is the #subscriber element (named access).
        const sub = (window as any).subscriber;
        if (!sub || typeof sub.getRtcStatsReport !== 'function') return 0;
        let frames = 0;
        (await sub.getRtcStatsReport()).forEach((s: any) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded;
        });
        return frames;
      });
    const deadline = Date.now() + 15_000;
    while ((await framesOnB()) <= 20) {
      if (Date.now() > deadline) throw new Error('the subscriber page decoded no video within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await b.evaluate(() => document.querySelectorAll('#subscriber video').length)).toBe(1);
    expect(await a.evaluate(() => document.querySelectorAll('#publisher video').length)).toBe(1);

    // The example's markup is broken (`<div id="publisherContainer/>` swallows the link as text), so
    // call the function its "Stop Publishing" link would have called.
    await a.evaluate(() => (window as any).unpublish());
    await a.waitForFunction(() => document.querySelectorAll('video').length === 0, undefined, { timeout: 10_000 });
    await b.waitForFunction(() => document.querySelectorAll('video').length === 0, undefined, { timeout: 10_000 });
  });
});
