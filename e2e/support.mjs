// Support code shared by the browser tests: the server and helper processes, Debian's chromium
// through playwright-core (nothing is downloaded), console-error collection, screenshots and
// sign-in. Deadlines come from BOTMOX_E2E_START_TIMEOUT_MS (process start) and
// BOTMOX_E2E_STEP_TIMEOUT_MS (each browser step); there are no fixed sleeps.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.join(HERE, 'screenshots');
export const ARTIFACTS = path.join(HERE, 'artifacts');
const CHROMIUM = process.env.BOTMOX_E2E_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const START_MS = Number(process.env.BOTMOX_E2E_START_TIMEOUT_MS || 60_000);
export const STEP_MS = Number(process.env.BOTMOX_E2E_STEP_TIMEOUT_MS || 20_000);

/** The demo user of src/demo.rs (an admin), there whenever the server runs with --demo. */
export const DEMO_USER = { email: 'demo@botmox.local', password: 'botmox-demo' };

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const LISTENING_RE = /listening on (https?:\/\/)?(\[[0-9a-f:]+\]:\d+|[\w.-]+:\d+)/i;
const GATEWAY_RE = /service-UI gateway on (https?:\/\/[\w.:[\]-]+)/i;
const SETUP_RE = /(https?:\/\/[^\s"'\\,]+\/setup\?token=[^\s"'\\,]+)/i;

/** Why the browser tests cannot run here, or false. */
export const noChromium = () => !existsSync(CHROMIUM) && `no chromium at ${CHROMIUM} (apt-get install -y chromium)`;

/**
 * Spawns a process with its stdout and stderr collected (ANSI colors stripped) into `log()`.
 * `until(cond, ms)` resolves with cond()'s value once it is truthy, the process exited or the
 * deadline passed, whichever comes first; `exited` is null while it runs.
 */
export function spawnLogged(bin, args, env = {}) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  let out = '';
  let waiters = [];
  const wake = () => waiters.forEach((w) => w());
  const proc = {
    exited: null,
    log: () => out,
    until: (cond, ms) =>
      new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
          resolve(cond());
        };
        const check = () => {
          if (cond() || proc.exited) done();
        };
        const timer = setTimeout(done, ms);
        waiters.push(check);
        check();
      }),
    /** SIGTERM, and SIGKILL when it is still there after 10 s. */
    async stop() {
      if (proc.exited) return;
      child.kill('SIGTERM');
      if (!(await proc.until(() => proc.exited, 10_000))) {
        child.kill('SIGKILL');
        await proc.until(() => proc.exited, 5_000);
      }
    },
  };
  const onData = (chunk) => {
    out += chunk.toString('utf8').replace(ANSI, '');
    wake();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', (code, signal) => {
    proc.exited = { code, signal };
    wake();
  });
  child.on('error', (e) => {
    proc.exited = { error: String(e) };
    wake();
  });
  return proc;
}

/**
 * Spawns `<bin> serve --listen 127.0.0.1:0 --gateway-listen 127.0.0.1:0 --data-dir <fresh tmp dir>
 * ...args` and resolves once it logs "listening on". The server has `baseUrl`, `gatewayUrl` (the
 * service-UI gateway's own origin), `setupUrl` and `setupToken` (null when an admin exists, as
 * with --demo), `dataDir` (for CLI commands), `log()` and `stop()`, which also removes the data
 * directory.
 */
export async function startServer(bin, { args = [], env = {}, dataDirPrefix = 'botmox-e2e-' } = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), dataDirPrefix));
  const proc = spawnLogged(
    bin,
    ['serve', '--listen', '127.0.0.1:0', '--gateway-listen', '127.0.0.1:0', '--data-dir', dataDir, ...args],
    env,
  );
  const stop = async () => {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const listening = await proc.until(() => !proc.exited && LISTENING_RE.exec(proc.log()), START_MS);
  if (!listening) {
    await stop();
    throw new Error(`server did not start (exit: ${JSON.stringify(proc.exited)})\n--- server log ---\n${proc.log()}`);
  }
  const baseUrl = `${listening[1] ?? 'http://'}${listening[2]}`;
  // The setup URL is logged before "listening on". Its path and query are used on the address
  // we know we can reach.
  const announced = SETUP_RE.exec(proc.log());
  const setup = announced && new URL(announced[1]);
  return {
    baseUrl,
    dataDir,
    gatewayUrl: GATEWAY_RE.exec(proc.log())?.[1] ?? null,
    setupUrl: setup && new URL(setup.pathname + setup.search, baseUrl).toString(),
    setupToken: setup && setup.searchParams.get('token'),
    log: proc.log,
    stop,
  };
}

/** Debian's chromium on a fresh temporary profile, which playwright deletes on close. */
export const launchBrowser = () => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });

/**
 * A page in a new dark-scheme context whose waits and navigations time out after STEP_MS.
 * `clipboardOrigin` grants that origin the clipboard (copy buttons); `locale` sets the
 * browser's (dates and numbers), else chromium's default. `bypassCSP` lets a test inject a
 * script of its own (the server's policy allows none inline).
 */
export async function newPage(browser, { viewport = { width: 1440, height: 900 }, clipboardOrigin, locale, bypassCSP = false } = {}) {
  const context = await browser.newContext({ viewport, colorScheme: 'dark', locale, bypassCSP });
  context.setDefaultTimeout(STEP_MS);
  context.setDefaultNavigationTimeout(STEP_MS);
  if (clipboardOrigin) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: clipboardOrigin });
  return { context, page: await context.newPage() };
}

/**
 * Collects the page's console errors and uncaught exceptions as "<path>: <text>". Chromium logs
 * every 4xx/5xx answer as an error: the ones a test provokes on purpose are announced first with
 * `expectFailed(status)`, and each announcement allows one such error. `assertClean()` fails on
 * any other error and on an announced one that never came.
 */
export function collectConsoleErrors(page) {
  const errors = [];
  const expected = [];
  const note = (text) => errors.push(`${new URL(page.url()).pathname}: ${text}`);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const i = expected.findIndex((status) => m.text().includes(`status of ${status}`));
    if (i >= 0) expected.splice(i, 1);
    else note(m.text());
  });
  page.on('pageerror', (e) => note(String(e)));
  return {
    errors,
    expectFailed: (status) => expected.push(status),
    assertClean() {
      if (errors.length) throw new Error(`browser errors:\n${errors.join('\n')}`);
      if (expected.length) throw new Error(`announced failures that never came: ${expected.join(', ')}`);
    },
    /** For a failure message: the errors so far, or '' when there are none. */
    report: () => (errors.length ? `browser errors:\n${errors.join('\n')}` : ''),
  };
}

/** Signs in through the login form and waits for the overview. */
export async function signIn(page, baseUrl, { email, password } = DEMO_USER) {
  await page.goto(new URL('/login', baseUrl).toString());
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/');
}

/**
 * The REST API with the signed-in browser's session (its HttpOnly cookie, plus the CSRF value
 * from whoami for changes, as the UI does): { status, body }.
 */
export const pageApi = (page, method, p, body) =>
  page.evaluate(
    async ([method, p, body]) => {
      const headers = { 'Content-Type': 'application/json' };
      if (method !== 'GET' && method !== 'HEAD') {
        const me = await (await fetch('/api/v1/auth/whoami')).json();
        headers['X-Botmox-CSRF'] = me.data.csrf_token;
      }
      const r = await fetch('/api/v1' + p, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: await r.json() };
    },
    [method, p, body],
  );

/** [`pageApi`] for a call that must succeed: throws on any status but 2xx; answers the body. */
export async function pageApiOk(page, method, p, body) {
  const r = await pageApi(page, method, p, body);
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${p}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * The REST API as `user` over plain fetch (no browser): get/post/patch answer the envelope's
 * `data` and throw on any status but 2xx; status(p) is a GET's HTTP status.
 */
export async function apiClient(baseUrl, user = DEMO_USER) {
  const call = async (method, p, body, token) => {
    const res = await fetch(new URL('/api/v1' + p, baseUrl), {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const login = await call('POST', '/auth/login', user);
  if (login.status !== 200) throw new Error(`API sign-in as ${user.email}: HTTP ${login.status} ${JSON.stringify(login.body)}`);
  const token = login.body.data.token;
  const data = (method) => async (p, body) => {
    const r = await call(method, p, body, token);
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${p}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.data;
  };
  return {
    get: data('GET'),
    post: data('POST'),
    patch: data('PATCH'),
    status: async (p) => (await call('GET', p, undefined, token)).status,
  };
}

/**
 * Polls `read` until `ok` holds for its answer (truthy by default) and returns that answer;
 * after STEP_MS fails with `what` and the last answer.
 */
export async function eventually(what, read, ok = Boolean) {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last answer: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Answers antd's confirmation modal (`Modal.confirm`, the one whose text has `hasText` when
 * given): waits until it stands still, clicks `button`, waits until it is gone. A click while
 * it zooms in can land where the button was a frame earlier and be lost (seen under CI load).
 */
export async function answerConfirm(page, button, hasText) {
  const box = page.locator('.ant-modal-confirm', hasText ? { hasText } : {});
  // antd's zoom classes (ant-zoom-appear, ant-zoom-appear-active) leave when the opening ends.
  await page.locator('.ant-modal-confirm:not([class*="ant-zoom"])', hasText ? { hasText } : {}).waitFor();
  await box.getByRole('button', { name: button, exact: true }).click();
  await box.waitFor({ state: 'detached' });
}

/**
 * The main routes (web/src/nav.tsx and the router in App.tsx) with the name of each page's main
 * action, where it has one, and whether that action opens a dialog (then checked to fit the
 * screen). Project and bot pages come from the seeded data.
 */
export async function mainRoutes(baseUrl) {
  const api = await apiClient(baseUrl);
  const bots = await api.get('/bots?limit=50');
  const projects = await api.get('/settings/projects');
  assert.ok(Array.isArray(bots) && bots.length > 0, 'demo data has bots');
  const project = Object.keys(projects ?? {})[0];
  assert.ok(project, 'demo data has a project');
  return [
    { name: 'overview', path: '/' },
    { name: 'project', path: `/project/${encodeURIComponent(project)}`, action: 'Add bot' },
    { name: 'bot', path: `/bot/${encodeURIComponent(bots[0].id)}` },
    { name: 'archive', path: '/archive/banned' },
    { name: 'licenses', path: '/licenses', action: 'Add License', dialog: true },
    { name: 'proxies', path: '/proxies', action: 'Add Proxy', dialog: true },
    { name: 'subscriptions', path: '/subscriptions', action: 'Add Subscription', dialog: true },
    { name: 'vms', path: '/vms' },
    { name: 'vms-site', path: '/vms/sites/proxmox' },
    { name: 'notes', path: '/notes', action: 'New note' },
    { name: 'calendar', path: '/workspace/calendar', action: 'Add event', dialog: true },
    { name: 'kanban', path: '/workspace/kanban', action: 'Add task', dialog: true },
    { name: 'finance', path: '/finance', action: 'Add operation', dialog: true },
    { name: 'settings', path: '/settings', action: 'New project', dialog: true },
    { name: 'account', path: '/account' },
    { name: 'audit', path: '/audit' },
    { name: 'agents', path: '/agents', action: 'Pair a new agent' },
    { name: 'datacenter', path: '/datacenter' },
    { name: 'secrets', path: '/admin/secrets', action: 'New secret', dialog: true },
    { name: 'artifacts', path: '/admin/artifacts', action: 'Upload release' },
    { name: 'leases', path: '/admin/leases' },
  ];
}

/**
 * Waits until the routed page has rendered and its spinners are gone (its first data arrived).
 * Not "network idle": some pages poll every few seconds.
 */
export async function settle(page) {
  await page.locator('.bm-content > *').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('.bm-content .bm-page-spinner, .bm-content .ant-spin-spinning'));
}

/** Saves the viewport (or with `fullPage`, the whole page) as e2e/screenshots/<name>.png. */
export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

/**
 * Screenshots of each `{ name, open, ready }` in the dark, then the light theme, as
 * <name>-<theme>.png: the theme goes to localStorage (the page must be on the app's origin),
 * `open()` loads the page, the theme must apply, `ready()` waits for its content. The light
 * theme stays selected afterwards.
 */
export async function screenshotBothThemes(page, shots) {
  for (const mode of ['dark', 'light']) {
    await page.evaluate((m) => localStorage.setItem('botmox.theme', m), mode);
    for (const { name, open, ready } of shots) {
      try {
        await open();
        await page.waitForFunction((m) => document.documentElement.getAttribute('data-theme') === m, mode);
        await ready();
        await screenshot(page, `${name}-${mode}`);
      } catch (e) {
        e.message = `screenshot ${name} (${mode}): ${e.message}`;
        throw e;
      }
    }
  }
}

/**
 * Adds what helps to explain a failed test to its error: a full-page screenshot of `page`
 * (e2e/artifacts/<name>-failure.png), its URL and the `details` that are not empty.
 */
export async function explainFailure(e, page, name, details) {
  const shot = path.join(ARTIFACTS, `${name}-failure.png`);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page?.screenshot({ path: shot, fullPage: true }).catch(() => {});
  e.message = [e.message, page && `page: ${page.url()}`, page && `screenshot: ${shot}`, ...details].filter(Boolean).join('\n');
}
