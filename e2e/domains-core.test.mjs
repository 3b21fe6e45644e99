// Browser test of the core domain pages — Overview, project bot list, bot detail, banned
// archive, licenses, proxies, subscriptions — against a real server filled with demo data.
//
// Server: BOTMOX_BIN=/path/to/botmox spawns `botmox serve --listen 127.0.0.1:0
// --data-dir <tmp> --demo --ipqs-base-url <double>` with IPQS_API_KEY set, so the IP checks
// talk to an IPQualityScore double served by this file. Browser: Debian's chromium
// (BOTMOX_E2E_CHROMIUM, default /usr/bin/chromium) through playwright-core.
//
// Every page is checked against data read from the API, runs its create/edit/delete flow,
// must log no console error, and is photographed in both themes into e2e/screenshots/.
// A second test measures the gzipped JavaScript of the first screen (login + overview).
//
// Waits are Playwright's auto-waiting locators and URL waits with deadlines; no fixed sleeps.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  answerConfirm,
  apiClient,
  collectConsoleErrors,
  explainFailure,
  launchBrowser,
  newPage,
  noChromium,
  screenshotBothThemes,
  signIn,
  startServer,
} from './support.mjs';

const DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');
const BUDGET_GZIP_BYTES = 400 * 1024;
const IPQS_KEY = 'e2e-ipqs-key';

/** The score the IPQS double gives an address: 88 for *.66, else the last octet mod 40. */
const fakeScore = (ip) => (ip.endsWith('.66') ? 88 : Number(ip.split('.').pop()) % 40);

/** An IPQualityScore double: GET /api/json/ip/{key}/{ip}. */
function startIpqs() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const m = /^\/api\/json\/ip\/([^/]+)\/([^/?]+)/.exec(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (!m || m[1] !== IPQS_KEY) {
        res.end(JSON.stringify({ success: false, message: 'Invalid key' }));
        return;
      }
      const ip = decodeURIComponent(m[2]);
      res.end(
        JSON.stringify({
          success: true,
          message: 'Success',
          fraud_score: fakeScore(ip),
          country_code: 'NL',
          region: 'North Holland',
          city: 'Amsterdam',
          isp: 'E2E ISP',
          organization: 'E2E Org',
          timezone: 'Europe/Amsterdam',
          latitude: 52.37,
          longitude: 4.89,
          vpn: false,
          proxy: true,
          tor: false,
          bot_status: false,
        }),
      );
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

const skip = !process.env.BOTMOX_BIN ? 'set BOTMOX_BIN (server binary)' : noChromium();

let ipqs = null;
let server = null;
let browser = null;

before(async () => {
  if (skip) return;
  ipqs = await startIpqs();
  server = await startServer(process.env.BOTMOX_BIN, {
    // The IP-quality double listens on loopback, which the egress policy refuses unless allowed.
    args: ['--demo', '--ipqs-base-url', ipqs.url, '--egress-allow', '127.0.0.1'],
    env: { IPQS_API_KEY: IPQS_KEY },
    dataDirPrefix: 'botmox-e2e-core-',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  ipqs?.server.close();
});

test('core domain pages: real data, create/edit/delete flows, no console errors, both themes', { skip, timeout: 300_000 }, async (t) => {
  const { baseUrl } = server;
  t.diagnostic(`server ${baseUrl}, IPQS double ${ipqs.url}`);
  const api = await apiClient(baseUrl);
  const { context, page } = await newPage(browser, { clipboardOrigin: baseUrl });
  // Must stay empty; the validation errors this test provokes on purpose are announced first.
  const consoleErrors = collectConsoleErrors(page);
  const visit = (p) => page.goto(new URL(p, baseUrl).toString());
  const toast = (text) => page.locator('.ant-message').getByText(text).first().waitFor();
  const dialog = () => page.getByRole('dialog').last();
  const fieldError = (label, text) =>
    page
      .locator('.ant-form-item')
      .filter({ has: page.getByLabel(label, { exact: true }) })
      .locator('.ant-form-item-explain-error')
      .filter({ hasText: text })
      .waitFor();
  const pickOption = async (label, search) => {
    const box = dialog().getByLabel(label, { exact: true });
    await box.click();
    await box.fill(search);
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').first().click();
  };

  const shots = [];
  const shoot = (name, p, ready) => shots.push({ name, p, ready });

  let step = 'start';
  try {
    const bots = await api.get('/bots?limit=200');
    const licenses = await api.get('/resources/licenses?limit=200');
    const tbc = bots.filter((b) => b.project_id === 'wow_tbc');
    const tbcBanned = tbc.filter((b) => b.status === 'banned');
    const subject = tbc.find((b) => b.status === 'leveling');
    const other = bots.find((b) => b.status === 'farming' && b.character?.name);
    assert.ok(subject && other, 'demo data has leveling and farming bots');

    step = 'sign in';
    await signIn(page, baseUrl);

    // ---- Overview -----------------------------------------------------------------------
    step = 'overview shows projects and resources from the API';
    const tbcCard = page.getByTestId('map-project-wow_tbc');
    await tbcCard.getByText(`${tbc.length} bots`).waitFor();
    await page.getByTestId('map-licenses').getByText(`${licenses.length} total`).waitFor();
    await page.getByTestId('map-alerts').waitFor();
    await page.getByTestId('map-finance').getByText('Income').waitFor();
    step = 'overview cards open with the keyboard';
    await tbcCard.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/project/wow_tbc');
    shoot('overview', '/', () => tbcCard.getByText(`${tbc.length} bots`).waitFor());

    // ---- Project bot list ---------------------------------------------------------------
    step = 'project list shows the project bots';
    const botsTable = page.getByTestId('bots-table');
    await page.getByTestId('project-title').filter({ hasText: 'WoW TBC' }).waitFor();
    await page.getByTestId('stat-total').getByText(String(tbc.length), { exact: true }).waitFor();
    await botsTable.getByText(`Total ${tbc.length} accounts`).waitFor();

    step = 'status filter from the URL';
    await visit('/project/wow_tbc?status=banned');
    await botsTable.getByText(`Total ${tbcBanned.length} accounts`).waitFor();
    assert.equal(await botsTable.locator('tbody [data-status="banned"]').count(), tbcBanned.length);

    step = 'add bot: the server rejects level 500 on the Level field';
    await visit('/project/wow_tbc');
    await page.getByRole('button', { name: 'Add bot' }).click();
    await dialog().getByLabel('VM name', { exact: true }).fill('vm-e2e');
    await dialog().getByLabel('Character name', { exact: true }).fill('Eetest');
    await dialog().getByLabel('Level', { exact: true }).fill('500');
    consoleErrors.expectFailed(400);
    await dialog().getByRole('button', { name: 'Create' }).click();
    await fieldError('Level', 'a level is 1-100');
    step = 'add bot';
    await dialog().getByLabel('Level', { exact: true }).fill('12');
    await dialog().getByRole('button', { name: 'Create' }).click();
    await toast('Bot created');
    const created = (await api.get('/bots?q=vm-e2e')).find((b) => b.name === 'vm-e2e');
    assert.equal(created?.character?.level, 12);
    assert.equal(created?.project_id, 'wow_tbc');

    step = 'search finds the new bot; bulk status change';
    await page.getByPlaceholder('Search by ID, character, email, server...').fill('Eetest');
    const row = botsTable.locator('tbody tr').filter({ hasText: 'Eetest' });
    await row.waitFor();
    await botsTable.getByText('Total 1 account').waitFor();
    await row.locator('.ant-checkbox-input').check();
    await page.getByTestId('bulk-count').filter({ hasText: '1 selected' }).waitFor();
    await page.getByRole('button', { name: 'Set status' }).click();
    await page.getByRole('menuitem', { name: 'Leveling' }).click();
    await toast('1 done');
    assert.equal((await api.get(`/bots/${created.id}`)).status, 'leveling');

    step = 'delete the bot';
    await row.getByRole('button', { name: 'Delete' }).click();
    await answerConfirm(page, 'Delete', 'Delete account?');
    await toast(/Account .* deleted/);
    assert.equal(await api.status(`/bots/${created.id}`), 404);
    shoot('project', '/project/wow_tbc', () => botsTable.getByText(`Total ${tbc.length} accounts`).waitFor());

    // ---- Bot detail ---------------------------------------------------------------------
    step = 'bot detail shows the bot';
    await visit(`/bot/${subject.id}`);
    await page.getByTestId('bot-title').filter({ hasText: subject.character.name }).waitFor();
    await page.getByTestId('bot-health').waitFor();

    await page.getByTestId('bot-health').locator('xpath=..').locator('.ant-descriptions-row').filter({ hasText: 'Project' }).getByText('WoW TBC', { exact: true }).waitFor();

    step = 'summary: the sub-nav scrolls to a part out of view';
    await page.setViewportSize({ width: 1440, height: 480 });
    const inView = (id) =>
      page.evaluate((i) => {
        const r = document.getElementById(i).getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight;
      }, id);
    assert.equal(await inView('bot-summary-resources'), false, 'status summary starts below the fold');
    await page.getByRole('navigation', { name: 'Summary sections' }).getByRole('button', { name: 'Status Summary' }).click();
    await page.waitForFunction(() => {
      const r = document.getElementById('bot-summary-resources').getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    });
    await page.setViewportSize({ width: 1440, height: 900 });

    step = 'configure: save person data';
    await page.getByTestId('tab-configure').click();
    const person = page.getByTestId('form-person');
    await person.getByTestId('section-notice').getByText('Incomplete Person Data').waitFor();
    const warned = (label) => person.locator('.ant-form-item').filter({ has: page.getByLabel(label, { exact: true }) }).locator('.bm-warn-icon');
    assert.equal(await warned('City').count(), 1, 'an empty stored field is marked');
    // Cancel puts the stored values back.
    await person.getByLabel('First Name', { exact: true }).fill('Zed');
    await person.getByText('Unsaved changes').waitFor();
    await person.getByRole('button', { name: 'Cancel' }).click();
    await person.getByText('Unsaved changes').waitFor({ state: 'detached' });
    assert.equal(await person.getByLabel('First Name', { exact: true }).inputValue(), subject.person?.first_name ?? '');
    await person.getByLabel('First Name', { exact: true }).fill('Erika');
    await person.getByRole('button', { name: 'Save Changes' }).click();
    await toast('Person data saved successfully');
    await warned('First Name').waitFor({ state: 'detached' });
    assert.equal(await warned('City').count(), 1, 'still empty, still marked');
    assert.equal((await api.get(`/bots/${subject.id}`)).person?.first_name, 'Erika');

    step = 'configure: character selects cascade, every field required';
    await page.getByText('3. Character Configuration').click();
    const ch = page.getByTestId('form-character');
    await ch.getByText('Auto-updated from game').waitFor();
    await ch.getByTestId('section-notice').getByText('Ready to configure').waitFor();
    // A select opens from its box; each dropdown holds the listbox `<field>_list`, which
    // tells it from one still closing.
    const openSelect = (field) => ch.locator('.ant-form-item').filter({ has: page.locator(`#${field}`) }).locator('.ant-select-selector').click();
    const dropdown = (field) => page.locator('.ant-select-dropdown').filter({ has: page.locator(`#${field}_list`) });
    const optionsOf = async (field) => {
      await openSelect(field);
      await dropdown(field).locator('.ant-select-item-option').first().waitFor();
      return (await dropdown(field).locator('.ant-select-item-option').allTextContents()).sort();
    };
    const pick = async (field, option) => {
      await openSelect(field);
      await dropdown(field).locator('.ant-select-item-option').filter({ hasText: option }).click();
    };
    // A new faction clears race and class; class waits for a race.
    await pick('faction', subject.character.faction === 'horde' ? 'Alliance' : 'Horde');
    await ch.getByText('Select race first').waitFor();
    // The notice follows the stored character, not the unsaved form.
    assert.equal(await ch.getByText('Incomplete Character Data').count(), 0);
    await ch.getByRole('button', { name: 'Save Changes' }).click();
    await fieldError('Race', 'Race is required');
    await fieldError('Class', 'Class is required');
    await pick('faction', 'Horde');
    assert.deepEqual(await optionsOf('race'), ['Blood Elf', 'Orc', 'Tauren', 'Troll', 'Undead'], 'horde races only');
    await dropdown('race').locator('.ant-select-item-option').filter({ hasText: 'Tauren' }).click();
    assert.deepEqual(await optionsOf('class'), ['Druid', 'Hunter', 'Shaman', 'Warrior'], 'classes a tauren may take');
    await dropdown('class').locator('.ant-select-item-option').filter({ hasText: 'Druid' }).click();
    await ch.getByRole('button', { name: 'Save Changes' }).click();
    await toast('Character saved');
    const saved = (await api.get(`/bots/${subject.id}`)).character;
    assert.deepEqual([saved.faction, saved.race, saved.class], ['horde', 'tauren', 'druid']);

    step = 'resources tab';
    await page.getByTestId('tab-resources').click();
    await page.getByText('License Information').waitFor();
    await page.getByText('Proxy Information').waitFor();

    step = 'monitoring: ban with the dialog';
    await page.getByTestId('tab-monitoring').click();
    await page.getByRole('button', { name: 'Confirm ban' }).click();
    await dialog().getByRole('button', { name: 'Ban' }).click();
    await fieldError('Ban reason', 'Specify the ban reason');
    await dialog().getByLabel('Ban reason', { exact: true }).fill('Caught by the e2e wave');
    await dialog().getByRole('button', { name: 'Ban' }).click();
    await toast('Bot banned and moved to archive');
    await page.getByRole('button', { name: 'Confirm unban' }).waitFor();
    assert.equal((await api.get(`/bots/${subject.id}`)).status, 'banned');
    shoot('bot-summary', `/bot/${other.id}`, () => page.getByTestId('bot-health').waitFor());
    shoot('bot-monitoring', `/bot/${subject.id}?tab=monitoring`, () => page.getByText('Life Cycle').waitFor());
    shoot('bot-configure', `/bot/${other.id}?tab=configure`, () => page.getByTestId('form-person').waitFor());
    shoot('bot-resources', `/bot/${other.id}?tab=resources`, () => page.getByText('Proxy Information').waitFor());

    // ---- Banned archive -----------------------------------------------------------------
    step = 'archive lists the banned bot and its snapshot; unban';
    await visit('/archive/banned');
    const bannedRow = page.getByTestId('banned-table').locator('tbody tr').filter({ hasText: 'Caught by the e2e wave' });
    await bannedRow.waitFor();
    // Project names come from settings, not from the id.
    await bannedRow.getByText('WoW TBC', { exact: true }).waitFor();
    await page.getByTestId('archive-table').getByText(subject.character.name).first().waitFor();
    await bannedRow.getByRole('button', { name: 'Unban' }).click();
    await answerConfirm(page, 'Unban');
    await toast('Ban lifted, bot restored');
    await bannedRow.waitFor({ state: 'detached' });
    assert.equal((await api.get(`/bots/${subject.id}`)).status, 'leveling');
    shoot('archive', '/archive/banned', () => page.getByTestId('archive-table').getByText(subject.character.name).first().waitFor());

    // ---- Licenses -----------------------------------------------------------------------
    step = 'licenses show the API count';
    await visit('/licenses');
    const licTable = page.getByTestId('licenses-table');
    await page.getByTestId('stat-total').getByText(String(licenses.length), { exact: true }).waitFor();
    await licTable.getByText(`Total ${licenses.length} licenses`).waitFor();

    step = 'add a license';
    await page.getByRole('button', { name: 'Add License' }).click();
    await dialog().getByLabel('License Key', { exact: true }).fill('E2E-KEY-0001');
    await dialog().getByLabel('Type', { exact: true }).fill('SIN');
    await dialog().getByRole('button', { name: 'Add License' }).click();
    await toast('License created');
    await page.getByPlaceholder('Search by key, type or status...').fill('E2E-KEY');
    const licRow = licTable.locator('tbody tr').filter({ hasText: /E2E-KEY-000/ });
    await licRow.getByText('E2E-KEY-0001').waitFor();

    step = 'edit the license';
    await licRow.getByRole('button', { name: 'Edit' }).click();
    await dialog().getByLabel('License Key', { exact: true }).fill('E2E-KEY-0002');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await toast('License updated');
    await licRow.getByText('E2E-KEY-0002').waitFor();
    // The closed dialog gives the focus back to the row's Edit button when its animation ends;
    // an Enter typed into the row before that lands on Edit and opens the dialog again.
    await dialog().waitFor({ state: 'detached' });

    step = 'link bots to the license from its row';
    const addBot = licRow.getByRole('combobox', { name: 'Add Bot to License E2E-KEY-0002' });
    await licRow.getByText('Add Bot').waitFor();
    for (const b of [subject, other]) {
      // The search leaves one option, active: Enter picks it (the table's poll may re-render under a pointer).
      await addBot.fill(b.id);
      await page.locator('.ant-select-dropdown:visible .ant-select-item-option-active').filter({ hasText: b.id }).waitFor();
      await addBot.press('Enter');
      await page.locator('.ant-select-dropdown:visible').waitFor({ state: 'hidden' });
      if (b === subject) await licRow.getByRole('button', { name: `Unassign ${subject.id}` }).waitFor();
    }
    await licRow.getByRole('button', { name: '2 bots' }).click();
    const linked = page.locator('.ant-popover:visible');
    await linked.getByText('2 Linked Bots').waitFor();
    await licRow.locator('.bm-sub').filter({ hasText: subject.character.name }).waitFor();
    await linked.getByRole('button', { name: `Unassign ${other.id}` }).click();
    await licRow.getByRole('button', { name: '2 bots' }).waitFor({ state: 'detached' });
    assert.deepEqual((await api.get('/resources/licenses?q=E2E-KEY-0002'))[0].bot_ids, [subject.id]);

    step = 'delete the license, then undo';
    const licId = (await api.get('/resources/licenses?q=E2E-KEY-0002'))[0].id;
    await licRow.getByRole('button', { name: 'Delete' }).click();
    await answerConfirm(page, 'Delete');
    await toast('License E2E-KEY-0002 deleted');
    assert.equal(await api.status(`/resources/licenses/${licId}`), 404);
    await page.locator('.ant-message').getByRole('button', { name: 'Undo' }).click();
    await toast('License E2E-KEY-0002 restored');
    await licRow.getByText('E2E-KEY-0002').waitFor();
    assert.equal((await api.get(`/resources/licenses/${licId}`)).key, 'E2E-KEY-0002');
    shoot('licenses', '/licenses', () => licTable.getByText(/Total \d+ licenses/).waitFor());

    // ---- Proxies ------------------------------------------------------------------------
    step = 'proxies show the API data';
    await visit('/proxies');
    const proxies = await api.get('/resources/proxies?limit=200');
    const pxTable = page.getByTestId('proxies-table');
    await pxTable.getByText(`Total ${proxies.length} proxies`).waitFor();

    step = 'add a proxy: parsed, checked on add, banned above the threshold';
    await page.getByRole('button', { name: 'Add Proxy' }).click();
    await dialog().getByLabel('Proxy String', { exact: true }).fill('nonsense');
    await dialog().getByText('Invalid proxy format').waitFor();
    assert.ok(await dialog().getByRole('button', { name: 'Add Proxy' }).isDisabled(), 'OK waits for a string that parses');
    await dialog().getByLabel('Proxy String', { exact: true }).fill('socks5://198.51.100.66:1080:alice:secret');
    await dialog().getByText('Proxy Parsed Successfully').waitFor();
    assert.ok(await dialog().getByRole('button', { name: 'Add Proxy' }).isEnabled(), 'OK enabled once the string parses');
    await pickOption('Assign to Bot', other.id);
    await dialog().getByRole('button', { name: 'Add Proxy' }).click();
    await toast('Proxy created');
    await toast('High fraud score detected (88)');
    await page.getByPlaceholder('Search by IP, provider, country, ISP...').fill('198.51.100.66');
    const pxRow = pxTable.locator('tbody tr').filter({ hasText: '198.51.100.66:1080' });
    await pxRow.getByText('BANNED').waitFor();
    await pxRow.getByTestId('fraud-score').getByText('88').waitFor();
    const newProxy = (await api.get('/resources/proxies?q=198.51.100.66'))[0];
    assert.equal(newProxy.bot_id, other.id);
    assert.equal(newProxy.type, 'socks5');

    step = 'recheck one proxy';
    const first = proxies.find((p) => p.ip === '203.0.113.11');
    await page.getByPlaceholder('Search by IP, provider, country, ISP...').fill('203.0.113.11');
    const firstRow = pxTable.locator('tbody tr').filter({ hasText: '203.0.113.11:' });
    await firstRow.getByTestId('recheck').click();
    await toast(`Proxy checked! Fraud Score: ${fakeScore('203.0.113.11')}`);
    assert.equal((await api.get(`/resources/proxies/${first.id}`)).fraud_score, fakeScore('203.0.113.11'));

    step = 'batch check of two selected proxies';
    await page.getByPlaceholder('Search by IP, provider, country, ISP...').fill('203.0.113.1');
    const rows = pxTable.locator('tbody tr.ant-table-row');
    await rows.nth(1).waitFor();
    await rows.nth(0).locator('.ant-checkbox-input').check();
    await rows.nth(1).locator('.ant-checkbox-input').check();
    await page.getByTestId('bulk-count').filter({ hasText: '2 selected' }).waitFor();
    await page.getByRole('button', { name: 'Check selected' }).click();
    await toast('2 checked');

    step = 'delete the new proxy';
    await page.getByPlaceholder('Search by IP, provider, country, ISP...').fill('198.51.100.66');
    await pxRow.getByRole('button', { name: 'Delete' }).click();
    await answerConfirm(page, 'Delete', 'Are you sure you want to delete proxy 198.51.100.66:1080?');
    await toast('Proxy 198.51.100.66:1080 deleted');
    assert.equal(await api.status(`/resources/proxies/${newProxy.id}`), 404);
    shoot('proxies', '/proxies', () => pxTable.getByText(/Total \d+ proxies/).waitFor());

    // ---- Subscriptions ------------------------------------------------------------------
    step = 'subscriptions show the API count';
    await visit('/subscriptions');
    const subs = await api.get('/resources/subscriptions?limit=200');
    const subTable = page.getByTestId('subscriptions-table');
    await subTable.getByText(`Total ${subs.length} subscriptions`).waitFor();

    step = 'add a subscription: the server rejects notes over 1000 characters on the Notes field';
    await page.getByRole('button', { name: 'Add Subscription' }).click();
    await pickOption('Bot', other.id);
    await dialog().getByLabel('Notes', { exact: true }).fill('x'.repeat(1001));
    consoleErrors.expectFailed(400);
    await dialog().getByRole('button', { name: 'Add Subscription' }).click();
    await fieldError('Notes', 'notes are at most 1000 characters');
    step = 'add a subscription';
    await dialog().getByLabel('Notes', { exact: true }).fill('e2e renewal');
    await dialog().getByRole('button', { name: 'Add Subscription' }).click();
    await toast('Subscription created successfully');
    const sub = (await api.get('/resources/subscriptions?q=e2e renewal'))[0];
    assert.equal(sub.bot_id, other.id);

    step = 'delete the subscription';
    await page.getByPlaceholder('Search by bot, type or e-mail...').fill('e2e renewal');
    const subRow = subTable.locator('tbody tr').filter({ hasText: other.character.name });
    await subTable.getByText('Total 1 subscription').waitFor();
    await subRow.getByRole('button', { name: 'Delete' }).click();
    await answerConfirm(page, 'Delete');
    await toast('WOW subscription deleted');
    assert.equal(await api.status(`/resources/subscriptions/${sub.id}`), 404);
    shoot('subscriptions', '/subscriptions', () => subTable.getByText(/Total \d+ subscriptions/).waitFor());

    // ---- Screenshots in both themes -----------------------------------------------------
    step = 'screenshots in both themes';
    await screenshotBothThemes(
      page,
      shots.map((s) => ({
        name: s.name,
        open: () => visit(s.p),
        ready: async () => {
          await s.ready();
          await page.waitForLoadState('networkidle');
        },
      })),
    );

    step = 'no console errors';
    consoleErrors.assertClean();
    step = 'done';
  } catch (e) {
    await explainFailure(e, page, 'domains-core', [
      `failed at step: ${step}`,
      consoleErrors.report(),
      `--- server log (tail) ---\n${server.log().slice(-3000)}`,
    ]);
    throw e;
  } finally {
    await context.close().catch(() => {});
  }
});

test('first screen (login + overview) JavaScript is under 400 KB gzipped', { skip, timeout: 120_000 }, async (t) => {
  const { baseUrl } = server;
  const { context, page } = await newPage(browser, { clipboardOrigin: baseUrl });
  const scripts = new Set();
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin === new URL(baseUrl).origin && u.pathname.endsWith('.js')) scripts.add(u.pathname);
  });
  try {
    await signIn(page, baseUrl);
    await page.getByTestId('map-project-wow_tbc').waitFor();
    await page.waitForLoadState('networkidle');
    // Sizes of the files the browser fetched, gzipped at level 9 like a static pre-compression.
    let raw = 0;
    let gz = 0;
    for (const p of scripts) {
      const bytes = readFileSync(path.join(DIST, p));
      raw += bytes.length;
      gz += gzipSync(bytes, { level: 9 }).length;
    }
    const kb = (n) => (n / 1024).toFixed(1);
    t.diagnostic(`first screen: ${scripts.size} scripts, ${kb(raw)} KB raw, ${kb(gz)} KB gzipped`);
    assert.ok(gz < BUDGET_GZIP_BYTES, `first screen JS ${kb(gz)} KB gzipped exceeds 400 KB`);
  } finally {
    await context.close().catch(() => {});
  }
});
