// Browser test: the shell's "disk full" banner — shown when a write answers 507 STORAGE_FULL
// or readiness says storage is full, gone once a write succeeds — against `botmox --demo`.
// The server's answers are replaced in the browser (a real full disk is tests/durability.rs).
//
// Server: BOTMOX_BIN; browser: Debian's chromium (BOTMOX_E2E_CHROMIUM) via playwright-core.
// Waits are auto-waiting locators with deadlines; no fixed sleeps.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { explainFailure, launchBrowser, newPage, noChromium, signIn, startServer } from './support.mjs';

const skip = !process.env.BOTMOX_BIN ? 'set BOTMOX_BIN (server binary)' : noChromium();

let server = null;
let browser = null;

before(async () => {
  if (skip) return;
  server = await startServer(process.env.BOTMOX_BIN, { args: ['--demo'], dataDirPrefix: 'botmox-e2e-storage-' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const full = {
  success: false,
  error: { code: 'STORAGE_FULL', message: "The server's disk is full, so nothing was saved" },
};
const notReady = {
  success: true,
  data: {
    status: 'not-ready',
    ready: false,
    checks: { storage: { required: true, ready: false, reason: 'storage full: 0 bytes free' } },
    timestamp: new Date().toISOString(),
  },
};

test('a full disk shows a banner until a write succeeds', { skip, timeout: 120_000 }, async () => {
  const { page } = await newPage(browser, { locale: 'en-US' });
  const banner = page.getByTestId('storage-full');
  const newNote = () => page.getByRole('complementary', { name: 'Notes' }).getByRole('button', { name: 'New note', exact: true });
  let step = 'sign in';
  try {
    await signIn(page, server.baseUrl);

    step = 'readiness says storage is full: the banner shows';
    await page.route('**/api/v1/health/ready', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify(notReady) }),
    );
    await page.reload();
    await banner.filter({ hasText: 'disk is full' }).waitFor();
    await page.unroute('**/api/v1/health/ready');

    step = 'a successful write clears it';
    await page.goto(new URL('/notes', server.baseUrl).toString());
    await newNote().click();
    await banner.waitFor({ state: 'detached' });

    step = 'a write answering 507 STORAGE_FULL shows it again';
    await page.route('**/api/v1/workspace/notes', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 507, contentType: 'application/json', body: JSON.stringify(full) })
        : route.continue(),
    );
    await newNote().click();
    await banner.waitFor();
    assert.match(await banner.innerText(), /Free space on the volume holding the data directory/);
  } catch (e) {
    await explainFailure(e, page, 'storage-full', [`step: ${step}`]);
    throw e;
  }
});
