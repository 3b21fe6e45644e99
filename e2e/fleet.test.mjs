// Browser test: an idle Overview follows the change feed instead of re-reading the fleet.
// With 50 bots seeded over the API, an idle Overview tab makes no request for a page of
// /bots in 10 s and few requests at all; a bot created elsewhere shows up in its project's
// count within seconds, through the feed (the fallback poll is a minute). The figures at
// 10,000 bots are measured by bench-fleet.mjs (docs/benchmarks.md).
//
// Needs BOTMOX_BIN (the server binary) and Debian's chromium.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectConsoleErrors, eventually, explainFailure, launchBrowser, newPage, noChromium, signIn, startServer } from './support.mjs';
import { isBotListRead, seedBots, tokenOf, watchApi } from './fleet.mjs';

const skip = !process.env.BOTMOX_BIN ? 'set BOTMOX_BIN (server binary)' : noChromium();
/** The idle window measured (a measurement, not a wait for some state). */
const IDLE_MS = 10_000;
/** Requests an idle Overview may make in IDLE_MS: the server section's health polls and little else. */
const IDLE_REQUEST_BUDGET = 8;

test('an idle Overview reads no bot lists and follows the change feed', { skip, timeout: 180_000 }, async () => {
  const server = await startServer(process.env.BOTMOX_BIN, { args: ['--demo'], dataDirPrefix: 'botmox-e2e-fleet-' });
  const browser = await launchBrowser();
  const { page } = await newPage(browser);
  const console = collectConsoleErrors(page);
  try {
    const token = await tokenOf(server.baseUrl);
    await seedBots(server.baseUrl, token, 50, 8);

    await signIn(page, server.baseUrl);
    const card = page.getByTestId('map-project-wow_tbc');
    const countOf = async () => Number((await card.locator('.ant-tag').first().textContent())?.match(/\d+/)?.[0] ?? NaN);
    await eventually('the project card counts', countOf, (n) => n >= 25);
    // Let the first loads (and the tree's) settle before the idle window opens.
    await page.waitForLoadState('networkidle');

    const watch = watchApi(page);
    await page.waitForTimeout(IDLE_MS);
    const idle = watch.stop();
    assert.deepEqual(idle.requests.filter(isBotListRead), [], 'no page of /bots while idle');
    assert.ok(
      idle.requests.length <= IDLE_REQUEST_BUDGET,
      `an idle Overview made ${idle.requests.length} API requests in ${IDLE_MS} ms: ${idle.requests.join(', ')}`,
    );

    const before = await countOf();
    const res = await fetch(new URL('/api/v1/bots', server.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'late-vm', project_id: 'wow_tbc', status: 'prepare' }),
    });
    assert.equal(res.status, 201);
    await eventually('the new bot counted on the Overview', countOf, (n) => n === before + 1);
    console.assertClean();
  } catch (e) {
    await explainFailure(e, page, 'fleet-overview', [console.report()]);
    throw e;
  } finally {
    await browser.close();
    await server.stop();
  }
});
