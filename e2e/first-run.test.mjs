// Browser test: a new operator's first minutes on a fresh server, without typing a URL but the
// setup URL the server prints: setup → first project → first bot → pair an agent (skipped) →
// the bot on the Overview, under two minutes. Then what they meet next: the bot's lifecycle
// status and presence shown, counted and filtered apart, the health banner naming what is
// wrong, projects renamed and (refused while they have bots) deleted, and the VM screens
// without an agent: disconnected panes with the pairing dialog one click away, the Proxmox
// settings tab and the Datacenter's empty state.
//
// Needs BOTMOX_BIN (the server binary) and Debian's chromium. Screenshots of the changed
// screens in both themes go to e2e/screenshots/ (not committed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  collectConsoleErrors,
  explainFailure,
  launchBrowser,
  newPage,
  noChromium,
  screenshotBothThemes,
  startServer,
} from './support.mjs';

const EMAIL = 'first@example.com';
const PASSWORD = 'a first password';
const FIRST_RUN_BUDGET_MS = 120_000;
const MINUTE = 60_000;

const skip = !process.env.BOTMOX_BIN ? 'set BOTMOX_BIN (server binary)' : noChromium();

/** The REST API as the admin, over plain fetch: { status, body }. */
async function api(baseUrl) {
  const call = async (method, p, body, token) => {
    const res = await fetch(new URL('/api/v1' + p, baseUrl), {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const login = await call('POST', '/auth/login', { email: EMAIL, password: PASSWORD });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  return (method, p, body) => call(method, p, body, login.body.data.token);
}

test('a new operator reaches a first bot on the Overview without docs or typed URLs', { skip, timeout: 300_000 }, async (t) => {
  const server = await startServer(process.env.BOTMOX_BIN, { dataDirPrefix: 'botmox-e2e-firstrun-' });
  const browser = await launchBrowser();
  const { page } = await newPage(browser);
  const consoleErrors = collectConsoleErrors(page);
  const onPath = (p) => (u) => u.pathname === p;
  const tree = (name) => page.locator('.bm-tree').getByText(name, { exact: true });
  const chip = (card, label) => card.locator('.bm-map-chip', { has: page.locator('.bm-map-chip-label', { hasText: new RegExp(`^${label}$`) }) }).locator('.bm-map-chip-value');
  const stat = (id) => page.getByTestId(id).locator('.bm-stat-value');
  /** Picks `option` in the filter select whose placeholder reads "<label>: …". */
  const filter = async (label, option) => {
    await page.locator('.ant-select', { has: page.getByRole('combobox', { name: label, exact: true }) }).locator('.ant-select-selector').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: new RegExp(`^${option}$`) }).click();
  };

  let step = 'start';
  try {
    assert.ok(server.setupUrl, 'the server printed a setup URL');
    const started = Date.now();

    step = 'setup from the printed URL';
    await page.goto(server.setupUrl);
    await page.getByLabel('Email', { exact: true }).fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create admin' }).click();
    await page.waitForURL(onPath('/'));

    step = 'the empty Overview offers the first step';
    const start = page.getByTestId('getting-started');
    await start.getByText('Create a project', { exact: true }).first().waitFor();
    await start.getByRole('button', { name: 'Create a project' }).click();

    step = 'create the first project';
    const projectDialog = page.getByTestId('project-dialog');
    await projectDialog.getByLabel('Name', { exact: true }).fill('WoW Classic');
    assert.equal(await projectDialog.getByLabel('ID', { exact: true }).inputValue(), 'wow_classic', 'the id follows the name');
    await projectDialog.getByRole('button', { name: 'Create' }).click();
    await page.locator('.ant-message').getByText('Project created').waitFor();

    step = 'add the first bot from the next step';
    await start.getByRole('button', { name: 'Add a bot to WoW Classic' }).click();
    await page.waitForURL(onPath('/project/wow_classic'));
    const botDialog = page.getByTestId('bot-dialog');
    await botDialog.getByLabel('Character name', { exact: true }).fill('Aldwyn');
    // "Initial status" stays at its default, Prepare.
    await botDialog.getByText('Prepare', { exact: true }).waitFor();
    await botDialog.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(onPath('/'));

    step = 'the agent step opens the pairing dialog, then is skipped';
    await screenshotBothThemes(page, [
      { name: 'firstrun-getting-started', open: () => page.reload(), ready: () => start.getByRole('button', { name: 'Pair an agent' }).waitFor() },
    ]);
    await start.getByRole('button', { name: 'Pair an agent' }).click();
    const pair = page.getByTestId('pair-dialog');
    await pair.getByRole('button', { name: 'Create pairing code' }).click();
    await pair.getByTestId('pair-code').waitFor();
    await pair.getByRole('button', { name: 'Close' }).first().click();
    await pair.waitFor({ state: 'hidden' });
    await start.getByTestId('skip-agent').click();
    await start.waitFor({ state: 'detached' });

    step = 'the bot is on the Overview: prepare, never seen';
    const card = page.getByTestId('map-project-wow_classic');
    await chip(card, 'Prepare').filter({ hasText: /^1$/ }).waitFor();
    await chip(card, 'Never seen').filter({ hasText: /^1$/ }).waitFor();
    assert.equal((await chip(card, 'Offline').textContent())?.trim(), '0', 'never seen is not offline');
    const elapsed = Date.now() - started;
    t.diagnostic(`first-run path took ${elapsed} ms`);
    assert.ok(elapsed < FIRST_RUN_BUDGET_MS, `first-run path took ${elapsed} ms (budget ${FIRST_RUN_BUDGET_MS})`);

    step = 'lifecycle status and presence are counted apart on the project page';
    const call = await api(server.baseUrl);
    const now = Date.now();
    for (const bot of [
      { id: 'bot-farming-online', status: 'farming', last_seen: now },
      { id: 'bot-farming-silent', status: 'farming', last_seen: now - 30 * MINUTE },
      { id: 'bot-leveling-online', status: 'leveling', last_seen: now },
    ]) {
      const res = await call('POST', '/bots', { ...bot, project_id: 'wow_classic', character: { name: bot.id.slice(4, 12) } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    await card.click();
    await page.waitForURL(onPath('/project/wow_classic'));
    const expected = { 'stat-total': '4', 'stat-active': '3', 'stat-prepare': '1', 'stat-online': '2', 'stat-offline': '1', 'stat-never-seen': '1' };
    for (const [id, value] of Object.entries(expected)) {
      await stat(id).filter({ hasText: new RegExp(`^${value}$`) }).waitFor();
    }

    step = 'filter by presence, then by lifecycle status';
    const table = page.getByTestId('bots-table');
    await filter('Presence', 'Offline');
    await page.waitForURL((u) => u.searchParams.get('presence') === 'offline');
    await table.locator('tbody tr[data-row-key="bot-farming-silent"]').waitFor();
    await table.locator('tbody tr[data-row-key]').nth(1).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.waitForURL((u) => !u.searchParams.has('presence'));
    await filter('Status', 'Prepare');
    await page.waitForURL((u) => u.searchParams.get('status') === 'prepare');
    const prepareRow = table.locator('tbody tr[data-row-key]');
    await prepareRow.filter({ hasText: 'Aldwyn' }).waitFor();
    await prepareRow.nth(1).waitFor({ state: 'detached' });
    await prepareRow.locator('[data-presence="never_seen"]').waitFor();

    step = 'the health banner names what is wrong';
    await prepareRow.locator('a.bm-mono').click();
    await page.waitForURL((u) => u.pathname.startsWith('/bot/'));
    const health = page.getByTestId('bot-health');
    await health.getByText('No license assigned').waitFor();
    await health.getByText('No proxy assigned').waitFor();
    await health.getByText(/Account incomplete/).waitFor();
    await health.getByText(/^Never seen/).waitFor();
    assert.equal(await health.getByText('All systems operational').count(), 0);
    await screenshotBothThemes(page, [{ name: 'firstrun-bot-health', open: () => page.reload(), ready: () => health.getByText('No proxy assigned').waitFor() }]);

    step = 'a banned bot says so';
    const ban = await call('POST', '/bots/bot-farming-online/lifecycle/ban', { ban_date: '01.01.2026', ban_reason: 'test', ban_mechanism: 'other' });
    assert.equal(ban.status, 200, JSON.stringify(ban.body));
    await tree('Overview').click();
    await page.waitForURL(onPath('/'));
    await chip(card, 'Banned').filter({ hasText: /^1$/ }).waitFor();
    await card.click();
    await page.waitForURL(onPath('/project/wow_classic'));
    await table.locator('tbody tr[data-row-key="bot-farming-online"] a.bm-mono').click();
    await health.locator('.ant-alert-error').filter({ hasText: 'Bot Banned' }).waitFor();
    assert.equal(await health.getByText(/^Bot Offline|^Never seen/).count(), 0, 'a banned bot is not expected to report');

    step = 'rename the project in Settings; deleting it is refused while it has bots';
    await tree('Settings').click();
    await page.waitForURL(onPath('/settings'));
    const projects = page.getByTestId('projects-table');
    await projects.getByRole('button', { name: 'Rename WoW Classic' }).click();
    await projectDialog.getByLabel('Name', { exact: true }).fill('Classic Era');
    assert.equal(await projectDialog.getByLabel('ID', { exact: true }).isDisabled(), true, 'the id stays');
    await projectDialog.getByRole('button', { name: 'Save' }).click();
    await projects.getByRole('link', { name: 'Classic Era' }).waitFor();
    await projects.getByRole('button', { name: 'Delete Classic Era' }).click();
    const refusal = page.locator('.ant-modal-confirm', { hasText: 'Classic Era still has bots' });
    await refusal.getByText(/4 bots belong to this project/).waitFor();
    await refusal.getByRole('button', { name: 'OK' }).click();
    await refusal.waitFor({ state: 'detached' });
    const kept = await call('GET', '/settings/projects/wow_classic');
    assert.equal(kept.status, 200);
    assert.equal(kept.body.data.name, 'Classic Era');

    step = 'an empty project is deleted';
    await projects.getByRole('link', { name: 'Classic Era' }).waitFor();
    await page.getByRole('button', { name: 'New project' }).click();
    await projectDialog.getByLabel('Name', { exact: true }).fill('Scratch');
    await projectDialog.getByRole('button', { name: 'Create' }).click();
    await projects.getByRole('button', { name: 'Delete Scratch' }).click();
    const confirm = page.locator('.ant-modal-confirm:not([class*="ant-zoom"])', { hasText: 'Delete project Scratch?' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.locator('.ant-message').getByText('Project Scratch deleted').waitFor();
    await projects.getByRole('link', { name: 'Scratch' }).waitFor({ state: 'detached' });
    await screenshotBothThemes(page, [
      {
        name: 'firstrun-settings-projects',
        open: () => page.reload(),
        ready: async () => {
          await projects.getByRole('link', { name: 'Classic Era' }).waitFor();
          await projects.scrollIntoViewIfNeeded();
        },
      },
    ]);

    step = 'without an agent the VM panes say so and offer pairing';
    await tree('Virtual Machines').click();
    await page.waitForURL(onPath('/vms'));
    await page.getByTestId('vm-list-disconnected').getByText('Disconnected').waitFor();
    await page.getByTestId('vm-queue-disconnected').getByText(/No agent is paired yet/).waitFor();
    await page.getByTestId('vm-console').waitFor();
    await page.getByTestId('queue-badge').filter({ hasText: 'Disconnected' }).waitFor();
    await page.getByTestId('vm-list-disconnected').getByRole('button', { name: 'Pair an agent' }).click();
    await pair.getByRole('button', { name: 'Create pairing code' }).waitFor();
    await pair.getByRole('button', { name: 'Close' }).first().click();
    await pair.waitFor({ state: 'hidden' });

    step = 'VM Settings has the Proxmox tab';
    await page.getByTestId('vm-settings').click();
    const proxmox = page.getByTestId('proxmox-tab');
    await proxmox.getByTestId('proxmox-no-agent').waitFor();
    await proxmox.getByLabel('Clone Source VM ID').fill('9000');
    await proxmox.getByTestId('generate-patch').click();
    await proxmox.getByTestId('patch-preview').getByText(/-smbios type=1,manufacturer=/).waitFor();
    await proxmox.getByRole('button', { name: 'Save' }).click();
    await page.locator('.ant-message').getByText('"Proxmox" saved').waitFor();
    const clone = await call('GET', '/settings/vmgenerator/clone');
    assert.equal(clone.status, 200);
    assert.deepEqual(clone.body.data, { source_vmid: 9000, storage: 'auto' });
    await screenshotBothThemes(page, [
      {
        name: 'firstrun-vm-settings-proxmox',
        open: async () => {
          await page.reload();
          await page.getByTestId('vm-settings').click();
        },
        ready: async () => {
          await proxmox.getByTestId('proxmox-no-agent').waitFor();
          await proxmox.getByTestId('generate-patch').click();
          await proxmox.getByTestId('patch-preview').waitFor();
          // antd's zoom classes leave the dialog once it stands still.
          await page.locator('.ant-modal[class*="ant-zoom"]').waitFor({ state: 'detached' });
        },
      },
      { name: 'firstrun-vms-no-agent', open: () => page.reload(), ready: () => page.getByTestId('vm-queue-disconnected').waitFor() },
    ]);

    step = 'the Datacenter explains itself';
    await tree('Datacenter').click();
    await page.waitForURL(onPath('/datacenter'));
    await page.getByTestId('dc-empty').getByRole('button', { name: 'Pair an agent' }).waitFor();

    step = 'screenshots of the Overview and the project page';
    // The theme applies on a page load: each shot navigates in the app, then reloads.
    const thenReload = (go) => async () => {
      await go();
      await page.reload();
    };
    await screenshotBothThemes(page, [
      { name: 'firstrun-datacenter', open: thenReload(() => tree('Datacenter').click()), ready: () => page.getByTestId('dc-empty').waitFor() },
      { name: 'firstrun-overview', open: thenReload(() => tree('Overview').click()), ready: () => chip(card, 'Banned').filter({ hasText: /^1$/ }).waitFor() },
      { name: 'firstrun-project', open: thenReload(() => card.click()), ready: () => stat('stat-never-seen').filter({ hasText: /^1$/ }).waitFor() },
    ]);

    consoleErrors.assertClean();
  } catch (e) {
    await explainFailure(e, page, 'first-run', [`step: ${step}`, consoleErrors.report()]);
    throw e;
  } finally {
    await browser.close();
    await server.stop();
  }
});
