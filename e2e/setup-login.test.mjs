// Browser test: first visit → setup form (wrong token, then the setup URL), sign out, sign in (and
// naming the tenant when the password opens two) — against a real server.
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
import { STEP_MS, collectConsoleErrors, explainFailure, launchBrowser, newPage, noChromium, pageApiOk, spawnLogged, startServer } from './support.mjs';

const EMAIL = 'admin@example.com';
const PASSWORD = 'correct horse battery';

function serverSource() {
  if (process.env.BOTMOX_BIN) return { bin: process.env.BOTMOX_BIN };
  if (process.env.BOTMOX_E2E_BASE_URL && process.env.BOTMOX_E2E_SETUP_URL) {
    return { baseUrl: process.env.BOTMOX_E2E_BASE_URL.replace(/\/+$/, ''), setupUrl: process.env.BOTMOX_E2E_SETUP_URL };
  }
  return null;
}

const source = serverSource();
const skip = !source ? 'set BOTMOX_BIN (server binary) or BOTMOX_E2E_BASE_URL + BOTMOX_E2E_SETUP_URL' : noChromium();

test('first visit leads to admin setup; sign out, sign in', { skip, timeout: 180_000 }, async (t) => {
  const server = source.bin ? await startServer(source.bin, { dataDirPrefix: 'botmox-e2e-data-' }) : null;
  const baseUrl = server?.baseUrl ?? source.baseUrl;
  const setupUrl = server?.setupUrl ?? source.setupUrl;
  t.diagnostic(`server ${baseUrl}`);

  const browser = await launchBrowser();
  const { page } = await newPage(browser);
  const consoleErrors = collectConsoleErrors(page);

  let step = 'start';
  try {
    assert.ok(setupUrl, 'the server logged a setup URL');
    const url = (p) => new URL(p, baseUrl).toString();
    const onPath = (p) => (u) => u.pathname === p;

    const sessionInStorage = () => page.evaluate(() => localStorage.getItem('botmox.session'));
    const tokenField = () => page.getByLabel('Setup token', { exact: true });
    /** The session lives in an HttpOnly, SameSite=Strict cookie: no script of the page can read its token. */
    const assertNoReadableToken = async (when) => {
      const cookies = (await page.context().cookies(baseUrl)).filter((c) => c.name === 'botmox_session');
      assert.equal(cookies.length, 1, `${when}: one session cookie`);
      const [cookie] = cookies;
      assert.ok(cookie.value.startsWith('bmx_s_'), `${when}: the cookie holds the session`);
      assert.equal(cookie.httpOnly, true, `${when}: HttpOnly`);
      assert.equal(cookie.sameSite, 'Strict', `${when}: SameSite=Strict`);
      const readable = await page.evaluate(() => ({ cookie: document.cookie, local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) }));
      for (const [where, text] of Object.entries(readable)) {
        assert.ok(!text.includes('bmx_s_') && !text.includes(cookie.value), `${when}: no session token in ${where}: ${text}`);
      }
      assert.ok(!(await page.content()).includes(cookie.value), `${when}: nor in the page`);
    };

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
    consoleErrors.expectFailed(401);
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
    assert.equal(stored.user.email, EMAIL, 'the identity (nothing secret) is kept for the shell');
    await assertNoReadableToken('after setup');
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
    consoleErrors.expectFailed(401);
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
    await assertNoReadableToken('after sign-in');

    step = 'a page from the tree';
    await page.getByRole('tree').getByText('Licenses', { exact: true }).click();
    await page.waitForURL(onPath('/licenses'));
    await page.getByRole('heading', { name: 'Bot Licenses' }).waitFor();

    step = 'no browser errors so far';
    consoleErrors.assertClean();

    step = 'uncaught browser errors reach the server log (POST /client-logs, batched)';
    await page.evaluate(() => {
      setTimeout(() => {
        throw new Error('e2e-planted-error');
      });
      void Promise.reject(new Error('e2e-planted-rejection'));
    });
    const reported = async () => {
      const body = await pageApiOk(page, 'GET', '/client-logs?limit=50');
      return (body.data ?? []).filter((e) => /e2e-planted-(error|rejection)/.test(e.message));
    };
    const deadline = Date.now() + STEP_MS;
    let found = [];
    while (found.length < 2 && Date.now() < deadline) {
      found = await reported();
      if (found.length < 2) await page.waitForTimeout(200);
    }
    assert.deepEqual(found.map((e) => e.event).sort(), ['unhandledrejection', 'window.error'], JSON.stringify(found));
    assert.ok(found.every((e) => e.level === 'error'), JSON.stringify(found));
    assert.equal(consoleErrors.errors.length, 2, consoleErrors.report());

    step = 'a rejected session cookie ends the session';
    await page.context().addCookies([{ name: 'botmox_session', value: 'bmx_s_not-a-valid-token', url: baseUrl, httpOnly: true, sameSite: 'Strict' }]);
    await page.goto(url('/'));
    await page.waitForURL(onPath('/login'));
    await page.getByText('Bot-Mox Login').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('botmox.session')), null);

    if (server) {
      step = 'an address with one password in two tenants: the form asks which tenant';
      const cli = spawnLogged(source.bin, ['admin', 'create-user', '--data-dir', server.dataDir, '--email', EMAIL, '--password', PASSWORD, '--tenant', 'other']);
      await cli.until(() => cli.exited, STEP_MS);
      assert.equal(cli.exited?.code, 0, cli.log());
      consoleErrors.expectFailed(409);
      await page.getByLabel('Email', { exact: true }).fill(EMAIL);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Tenant', { exact: true }).fill('other');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(onPath('/'));
      const body = await pageApiOk(page, 'GET', '/auth/whoami');
      assert.equal(body.data.tenant_id, 'other', JSON.stringify(body));
    }

    step = 'done';
  } catch (e) {
    await explainFailure(e, page, 'setup-login', [
      `failed at step: ${step}`,
      consoleErrors.report(),
      server && `--- server log (tail) ---\n${server.log().slice(-4000)}`,
    ]);
    throw e;
  } finally {
    await browser.close().catch(() => {});
    if (server) await server.stop();
  }
});
