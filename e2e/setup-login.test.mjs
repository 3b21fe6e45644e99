// Browser test: first visit → setup form (wrong token, then the setup URL), sign out, sign in — against a real server.
//
// Server, one of:
//   BOTMOX_BIN=/path/to/botmox        spawns `botmox serve --listen 127.0.0.1:0 --data-dir <tmp>`
//                                     and reads the listening and setup URLs from its log
//   BOTMOX_E2E_BASE_URL + BOTMOX_E2E_SETUP_URL   an already running, fresh server
// Browser: Debian's chromium (BOTMOX_E2E_CHROMIUM, default /usr/bin/chromium) through
// playwright-core; nothing is downloaded.
//
// Waits are Playwright's auto-waiting locators and URL waits with deadlines; no fixed sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
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
const SERVER_START_MS = Number(process.env.BOTMOX_E2E_START_TIMEOUT_MS || 60_000);
const STEP_MS = Number(process.env.BOTMOX_E2E_STEP_TIMEOUT_MS || 20_000);

const EMAIL = 'admin@example.com';
const PASSWORD = 'correct horse battery';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const LISTENING_RE = /listening on (https?:\/\/)?(\[[0-9a-f:]+\]:\d+|[\w.-]+:\d+)/i;
const SETUP_RE = /(https?:\/\/[^\s"'\\,]+\/setup\?token=[^\s"'\\,]+)/i;

/** Spawns the server and resolves once both URLs appeared in its log. */
async function startServer(bin) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'botmox-e2e-data-'));
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let log = '';
  let exited = null;
  const state = { baseUrl: null, setupUrl: null };
  let wake = () => {};
  const onData = (chunk) => {
    log += chunk.toString('utf8').replace(ANSI, '');
    const listening = LISTENING_RE.exec(log);
    state.baseUrl ??= listening ? `${listening[1] ?? 'http://'}${listening[2]}` : null;
    state.setupUrl ??= SETUP_RE.exec(log)?.[1] ?? null;
    wake();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    wake();
  });
  child.on('error', (e) => {
    exited = { error: e };
    wake();
  });

  const server = {
    child,
    dataDir,
    log: () => log,
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        const gone = await waitForEvent(() => exited !== null, 10_000, (w) => (wake = w));
        if (!gone) {
          child.kill('SIGKILL');
          await waitForEvent(() => exited !== null, 5_000, (w) => (wake = w));
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  const ok = await waitForEvent(
    () => (state.baseUrl && state.setupUrl) || exited !== null,
    SERVER_START_MS,
    (w) => (wake = w),
  );
  if (!ok || exited !== null || !state.baseUrl || !state.setupUrl) {
    await server.stop();
    throw new Error(
      `server did not report its URLs (exit: ${JSON.stringify(exited)}; ` +
        `listening: ${state.baseUrl}; setup: ${state.setupUrl})\n--- server log ---\n${log}`,
    );
  }
  // Use the setup URL's path and query on the address we know we can reach.
  const setup = new URL(state.setupUrl);
  server.baseUrl = state.baseUrl;
  server.setupUrl = new URL(setup.pathname + setup.search, state.baseUrl).toString();
  return server;
}

/** Resolves true once cond() holds (re-checked on each wake-up), false at the deadline. */
function waitForEvent(cond, timeoutMs, setWaker) {
  return new Promise((resolve) => {
    if (cond()) return resolve(true);
    const timer = setTimeout(() => {
      setWaker(() => {});
      resolve(false);
    }, timeoutMs);
    setWaker(() => {
      if (cond()) {
        clearTimeout(timer);
        setWaker(() => {});
        resolve(true);
      }
    });
  });
}

function serverSource() {
  if (process.env.BOTMOX_BIN) return { bin: process.env.BOTMOX_BIN };
  if (process.env.BOTMOX_E2E_BASE_URL && process.env.BOTMOX_E2E_SETUP_URL) {
    return { baseUrl: process.env.BOTMOX_E2E_BASE_URL.replace(/\/+$/, ''), setupUrl: process.env.BOTMOX_E2E_SETUP_URL };
  }
  return null;
}

const source = serverSource();
const skip = !source
  ? 'set BOTMOX_BIN (server binary) or BOTMOX_E2E_BASE_URL + BOTMOX_E2E_SETUP_URL'
  : !existsSync(CHROMIUM)
    ? `no chromium at ${CHROMIUM} (apt-get install -y chromium)`
    : false;

test('first visit leads to admin setup; sign out, sign in', { skip, timeout: 180_000 }, async (t) => {
  let server = null;
  let baseUrl = source.baseUrl;
  let setupUrl = source.setupUrl;
  if (source.bin) {
    server = await startServer(source.bin);
    baseUrl = server.baseUrl;
    setupUrl = server.setupUrl;
  }
  t.diagnostic(`server ${baseUrl}`);

  // playwright's launch() runs chromium on a fresh temporary profile (user-data-dir)
  // that it deletes on close.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  context.setDefaultTimeout(STEP_MS);
  context.setDefaultNavigationTimeout(STEP_MS);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  let step = 'start';
  try {
    const url = (p) => new URL(p, baseUrl).toString();
    const onPath = (p) => (u) => u.pathname === p;

    const sessionInStorage = () => page.evaluate(() => localStorage.getItem('botmox.session'));
    const tokenField = () => page.getByLabel('Setup token', { exact: true });

    step = 'first visit to / leads to the setup form';
    await page.goto(url('/'));
    await page.waitForURL(onPath('/setup'));
    await page.getByText('Create the first admin').waitFor();
    await tokenField().waitFor();
    await page.getByText('paste the token= part, or open that URL').waitFor();

    step = '/login and other guarded routes also lead to setup';
    await page.goto(url('/login'));
    await page.waitForURL(onPath('/setup'));
    await tokenField().waitFor();
    await page.goto(url('/licenses'));
    await page.waitForURL(onPath('/setup'));
    await tokenField().waitFor();

    step = 'a wrong setup token shows the server message';
    await tokenField().fill('not-the-setup-token');
    await page.getByLabel('Email', { exact: true }).fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create admin' }).click();
    const invalidToken = /The setup token is not valid/;
    // On the token field …
    await page
      .locator('.ant-form-item')
      .filter({ has: tokenField() })
      .locator('.ant-form-item-explain-error')
      .filter({ hasText: invalidToken })
      .waitFor();
    // … and as a toast.
    await page.locator('.ant-message').getByText(invalidToken).waitFor();
    // The 401 of the public setup call neither redirects nor touches the session or the form.
    assert.equal(new URL(page.url()).pathname, '/setup');
    assert.equal(await sessionInStorage(), null);
    assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), EMAIL);
    await page.getByRole('button', { name: 'Create admin' }).and(page.locator(':enabled')).waitFor();

    step = 'open the setup URL';
    await page.goto(setupUrl);
    await page.getByText('Create the first admin').waitFor();
    await page.getByLabel('Email', { exact: true }).waitFor();
    assert.equal(await tokenField().isHidden(), true, 'token field hidden when the URL has the token');

    step = 'create the first admin';
    await page.getByLabel('Email', { exact: true }).fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create admin' }).click();

    step = 'overview after setup shows the email';
    await page.waitForURL(onPath('/'));
    await page.getByTestId('overview-email').filter({ hasText: EMAIL }).waitFor();
    assert.equal((await page.getByTestId('overview-email').textContent())?.trim(), EMAIL);
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('botmox.session') ?? 'null'));
    assert.ok(stored?.token, 'session token stored');
    assert.equal(stored.user.email, EMAIL);
    const theme = await page.evaluate(() => document.documentElement.getAttribute('data-theme'));
    assert.ok(theme === 'dark' || theme === 'light', `data-theme is ${theme}`);

    step = 'sign out';
    await page.getByRole('button', { name: 'User menu' }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.waitForURL(onPath('/login'));
    await page.getByText('Bot-Mox Login').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('botmox.session')), null);

    step = 'setup is done now';
    await page.goto(setupUrl);
    await page.getByText('Setup is already done').waitFor();
    await page.getByRole('link', { name: 'Go to the login page' }).click();
    await page.waitForURL(onPath('/login'));

    step = 'wrong password shows the server message';
    await page.getByLabel('Email', { exact: true }).fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Invalid email or password').waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');

    step = 'sign in';
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(onPath('/'));

    step = 'overview after sign-in shows the email and a ready server';
    await page.getByTestId('overview-email').filter({ hasText: EMAIL }).waitFor();
    await page.getByTestId('readiness-status').filter({ hasText: /^ready$/ }).waitFor();
    await page.getByTestId('health-status').filter({ hasText: 'ok' }).waitFor();

    step = 'a page from the tree';
    await page.getByRole('tree').getByText('Licenses', { exact: true }).click();
    await page.waitForURL(onPath('/licenses'));
    await page.getByRole('heading', { name: 'Bot Licenses' }).waitFor();

    step = 'a rejected token ends the session';
    await page.evaluate(() => {
      const s = JSON.parse(localStorage.getItem('botmox.session'));
      s.token = 'not-a-valid-token';
      localStorage.setItem('botmox.session', JSON.stringify(s));
    });
    await page.goto(url('/'));
    await page.waitForURL(onPath('/login'));
    await page.getByText('Bot-Mox Login').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('botmox.session')), null);

    step = 'done';
  } catch (e) {
    const dir = path.join(HERE, 'artifacts');
    mkdirSync(dir, { recursive: true });
    const shot = path.join(dir, 'failure.png');
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    const extra = [
      `failed at step: ${step}`,
      `page: ${page.url()}`,
      `screenshot: ${shot}`,
      consoleErrors.length ? `browser errors:\n${consoleErrors.join('\n')}` : '',
      server ? `--- server log (tail) ---\n${server.log().slice(-4000)}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    e.message = `${e.message}\n${extra}`;
    throw e;
  } finally {
    await browser.close().catch(() => {});
    if (server) await server.stop();
  }
});
