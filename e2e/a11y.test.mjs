// Browser test: accessibility. axe-core (from npm, injected into the page) checks the sign-in page
// and every main route (the list of support.mjs, with project and bot pages from the demo data) in
// both themes at desktop width; any "serious" or "critical" finding fails the test, named by rule
// and element. Every route is also saved as a full-page screenshot in both themes at desktop
// (1440×900) and phone (390×844) width in e2e/screenshots/ (not committed), to be looked at.
//
// Needs BOTMOX_BIN (the server binary) and Debian's chromium. The server runs with --demo.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  ARTIFACTS,
  collectConsoleErrors,
  explainFailure,
  launchBrowser,
  mainRoutes,
  newPage,
  noChromium,
  screenshot,
  settle,
  signIn,
  startServer,
} from './support.mjs';

const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const BLOCKING = new Set(['serious', 'critical']);
const FINDINGS = path.join(ARTIFACTS, 'a11y-findings.txt');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const skip = !process.env.BOTMOX_BIN ? 'set BOTMOX_BIN (server binary)' : noChromium();

let server = null;
let browser = null;

before(async () => {
  if (skip) return;
  server = await startServer(process.env.BOTMOX_BIN, { args: ['--demo'], dataDirPrefix: 'botmox-e2e-a11y-' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

/** The serious and critical axe findings on the page, one line per element: "rule: target (summary)". */
async function axeFindings(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations);
  return violations
    .filter((v) => BLOCKING.has(v.impact))
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 400)}`));
}

/** Waits until antd's entrance animations (fades, zooms) have ended: a half-faded text fails contrast. */
const animationsDone = (page) =>
  page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))));

/**
 * A screenshot of the whole page at `viewport`'s width: the content pane scrolls inside the
 * shell, so the viewport is grown to the pane's full height (up to 8000 px) for the shot.
 */
async function wholePage(page, name, viewport) {
  const extra = await page.evaluate(() => {
    const main = document.querySelector('.bm-content');
    return main ? main.scrollHeight - main.clientHeight : 0;
  });
  await page.setViewportSize({ width: viewport.width, height: Math.min(8000, viewport.height + Math.max(0, extra)) });
  await screenshot(page, name, { fullPage: true });
  await page.setViewportSize(viewport);
}

const setTheme = async (page, mode) => {
  await page.evaluate((m) => localStorage.setItem('botmox.theme', m), mode);
};

test('no serious or critical axe findings on any main page in either theme', { skip, timeout: 900_000 }, async (t) => {
  const { baseUrl } = server;
  const routes = await mainRoutes(baseUrl);
  const { context, page } = await newPage(browser, { viewport: DESKTOP, bypassCSP: true });
  const consoleErrors = collectConsoleErrors(page);
  const problems = [];
  rmSync(FINDINGS, { force: true });
  let step = 'sign-in page';
  try {
    // The sign-in page, before the session exists.
    await page.goto(new URL('/login', baseUrl).toString());
    for (const mode of ['light', 'dark']) {
      step = `login (${mode})`;
      await setTheme(page, mode);
      await page.reload();
      await page.waitForFunction((m) => document.documentElement.getAttribute('data-theme') === m, mode);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await animationsDone(page);
      problems.push(...(await axeFindings(page)).map((f) => `${step}: ${f}`));
      await screenshot(page, `a11y-login-${mode}`, { fullPage: true });
    }
    await signIn(page, baseUrl);

    for (const mode of ['light', 'dark']) {
      await setTheme(page, mode);
      for (const r of routes) {
        step = `${r.name} (${mode})`;
        await page.setViewportSize(DESKTOP);
        await page.goto(new URL(r.path, baseUrl).toString());
        await page.waitForFunction((m) => document.documentElement.getAttribute('data-theme') === m, mode);
        await settle(page);
        await animationsDone(page);
        problems.push(...(await axeFindings(page)).map((f) => `${step}: ${f}`));
        await wholePage(page, `a11y-${r.name}-${mode}-desktop`, DESKTOP);
        await page.setViewportSize(PHONE);
        await settle(page);
        await animationsDone(page);
        await wholePage(page, `a11y-${r.name}-${mode}-phone`, PHONE);
      }
    }
    step = 'all routes';
    if (problems.length) {
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(FINDINGS, problems.join('\n') + '\n');
    }
    assert.deepEqual(problems, [], `${problems.length} serious or critical axe findings (all in e2e/artifacts/a11y-findings.txt)`);
    consoleErrors.assertClean();
  } catch (e) {
    await explainFailure(e, page, 'a11y', [`step: ${step}`, consoleErrors.report()]);
    throw e;
  } finally {
    await context.close();
  }
  t.diagnostic(`${routes.length} routes and the sign-in page checked in both themes`);
});
