// Browser test of the "Virtual Machines Settings" dialog and the service sites against a real
// --demo server (its demo user is admin + infra); no agent is needed for either.
//
// Server: BOTMOX_BIN=/path/to/botmox (spawned as `botmox serve --listen 127.0.0.1:0
// --gateway-listen 127.0.0.1:0 --data-dir <tmp> --demo`). Browser: Debian's chromium through playwright-core.
//
// Flow: unattend profiles — the answer-file preview follows the editor (computer name, time
// zone), a bad computer name is marked at its field, create as default (★), update, export the
// final XML, delete after a confirmation; playbooks — a broken .yml imported validates to
// "1 error" marked at its line (and a save is refused with the same mark), fixed it
// validates, saves and deletes; the resources tab saves a project's profile; service sites — "not configured",
// then with a SyncThing URL saved in the dialog's Services tab (a bad URL marked first) a
// full-size frame of the infra gateway (its own origin, through a hand-off link) showing the upstream page, and a user without the
// infra role is told so. No console errors besides the 4xx answers provoked on purpose;
// screenshots in both themes go to e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import {
  answerConfirm,
  collectConsoleErrors,
  explainFailure,
  launchBrowser,
  newPage,
  noChromium,
  pageApi,
  screenshotBothThemes,
  signIn,
  startServer,
} from './support.mjs';

const skip = !process.env.BOTMOX_BIN ? 'set BOTMOX_BIN (server binary)' : noChromium();

const UPSTREAM_TEXT = 'SyncThing double for the gateway';

/** A stand-in SyncThing web UI: one HTML page for every path. */
function startUpstream() {
  /** Every request's Cookie and Authorization, to show that our session never reaches it. */
  const credentials = [];
  const server = createServer((req, res) => {
    credentials.push(`${req.headers.cookie ?? ''} ${req.headers.authorization ?? ''}`);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>SyncThing</title><h1>${UPSTREAM_TEXT}</h1><p id="path">${req.url}</p>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, credentials, url: `http://127.0.0.1:${server.address().port}` })));
}

const BROKEN_PLAYBOOK = ['name: E2E playbook', 'roles:', '  - role: base-system', '  - role: privacy-debloat', '    tags: [a, 1]', ''].join('\n');
const FIXED_PLAYBOOK = BROKEN_PLAYBOOK.replace('[a, 1]', '[a, b]');

test('VM settings: unattend profiles with XML preview, playbooks validated at the line, resources, service sites', { skip, timeout: 300_000 }, async (t) => {
  const upstream = await startUpstream();
  // The gateway's upstream double listens on loopback, which the egress policy refuses unless allowed.
  const server = await startServer(process.env.BOTMOX_BIN, {
    args: ['--demo', '--egress-allow', '127.0.0.1'],
    dataDirPrefix: 'botmox-e2e-vmsettings-',
  });
  const { baseUrl } = server;
  const url = (p) => new URL(p, baseUrl).toString();
  t.diagnostic(`server ${baseUrl}, upstream ${upstream.url}`);

  const browser = await launchBrowser();
  const { page } = await newPage(browser);
  const consoleErrors = collectConsoleErrors(page);
  const { expectFailed } = consoleErrors;
  const apiCall = (method, p, body) => pageApi(page, method, p, body);
  const toast = (text) => page.locator('.ant-message').getByText(text).first().waitFor();
  const dialog = page.getByRole('dialog', { name: 'Virtual Machines Settings' });
  const preview = dialog.getByTestId('xml-preview');
  const profiles = dialog.getByTestId('profile-list');
  const playbooks = dialog.getByTestId('playbook-list');
  const editor = dialog.locator('.bm-code textarea');
  const verdict = dialog.getByTestId('playbook-verdict');
  const errorLines = dialog.locator('.bm-code-gutter [data-error="true"]');
  /** Picks `option` in the antd select labelled `label` inside the dialog. */
  const choose = async (label, option) => {
    await dialog.locator('.ant-form-item').filter({ has: page.getByLabel(label, { exact: true }) }).locator('.ant-select-selector').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: new RegExp(`^${option}$`) }).click();
  };
  const confirmDelete = () => answerConfirm(page, 'Delete');
  const openSettings = async (tab) => {
    await page.goto(url('/vms'));
    await page.getByTestId('vm-settings').click();
    await dialog.waitFor();
    // The dialog opens on its Proxmox tab; the flows here start on the unattend profiles.
    await dialog.getByRole('tab', { name: tab ?? 'Unattend Profile' }).click();
  };

  let step = 'start';
  try {
    step = 'sign in as the demo admin (admin + infra)';
    await signIn(page, baseUrl);

    step = 'settings dialog: no profiles yet, the preview renders the defaults';
    await openSettings();
    await profiles.getByText('No profiles yet').waitFor();
    await preview.filter({ hasText: '<TimeZone>Turkey Standard Time</TimeZone>' }).waitFor();
    assert.match(await preview.textContent(), /<ComputerName>DESKTOP-[A-Z0-9]{7}<\/ComputerName>/);

    step = 'the preview follows the editor: custom computer name and time zone';
    await choose('Computer name', 'Custom');
    await dialog.getByLabel('Custom computer name (≤ 15)').fill('E2E-PC-01');
    await dialog.getByLabel('Time zone').fill('UTC');
    await preview.filter({ hasText: '<ComputerName>E2E-PC-01</ComputerName>' }).waitFor();
    await preview.filter({ hasText: '<TimeZone>UTC</TimeZone>' }).waitFor();
    await dialog.getByLabel('Remote Desktop on').check();
    await preview.filter({ hasText: 'fDenyTSConnections' }).waitFor();

    step = "a computer name the server refuses is marked at its field; the preview keeps the last good one";
    expectFailed(400);
    await dialog.getByLabel('Custom computer name (≤ 15)').fill('bad name!');
    await dialog.locator('.ant-form-item-explain-error', { hasText: "must be 1-15 letters, digits or '-' when mode is custom" }).waitFor();
    assert.match(await preview.textContent(), /<ComputerName>E2E-PC-01<\/ComputerName>/);
    await dialog.getByLabel('Custom computer name (≤ 15)').fill('E2E-PC-02');
    await preview.filter({ hasText: '<ComputerName>E2E-PC-02</ComputerName>' }).waitFor();
    await dialog.locator('.ant-form-item-explain-error').waitFor({ state: 'detached' });

    step = 'create the profile as the default: it is listed with a star and stored as edited';
    await dialog.getByLabel('Profile name').fill('E2E profile');
    await dialog.getByRole('checkbox', { name: 'Default' }).check();
    await dialog.getByRole('button', { name: 'Create' }).click();
    await toast('"E2E profile" saved');
    await profiles.getByRole('option', { name: /E2E profile/, selected: true }).locator('[aria-label="default"]').waitFor();
    let stored = (await apiCall('GET', '/unattend-profiles')).body.data;
    assert.equal(stored.length, 1);
    assert.equal(stored[0].is_default, true);
    assert.deepEqual(
      [stored[0].config.computerName, stored[0].config.locale.timeZone, stored[0].config.windowsSettings.enableRemoteDesktop],
      [{ mode: 'custom', customName: 'E2E-PC-02' }, 'UTC', true],
    );

    step = 'update it: the preview and the stored profile follow';
    await dialog.getByLabel('Time zone').fill('W. Europe Standard Time');
    await preview.filter({ hasText: '<TimeZone>W. Europe Standard Time</TimeZone>' }).waitFor();
    // The update's toast reads as the create's did: wait for that one to go, or the next wait
    // could take it for the update's and read the profile before the update lands.
    await page.locator('.ant-message').getByText('"E2E profile" saved').waitFor({ state: 'detached' });
    await dialog.getByRole('button', { name: 'Update' }).click();
    await toast('"E2E profile" saved');
    stored = (await apiCall('GET', '/unattend-profiles')).body.data;
    assert.equal(stored[0].config.locale.timeZone, 'W. Europe Standard Time');

    step = 'export the final XML: the file is the preview';
    const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Export Final XML' }).click()]);
    assert.equal(download.suggestedFilename(), 'autounattend.xml');
    const exported = readFileSync(await download.path(), 'utf8');
    assert.equal(exported, await preview.textContent());
    assert.match(exported, /<ComputerName>E2E-PC-02<\/ComputerName>/);

    step = 'Reset Default puts the options back (unsaved): the preview follows';
    await dialog.getByRole('button', { name: 'Reset Default' }).click();
    await preview.filter({ hasText: '<TimeZone>Turkey Standard Time</TimeZone>' }).waitFor();
    assert.match(await preview.textContent(), /<ComputerName>DESKTOP-[A-Z0-9]{7}<\/ComputerName>/);
    assert.equal((await apiCall('GET', '/unattend-profiles')).body.data[0].config.locale.timeZone, 'W. Europe Standard Time');

    step = 'screenshots of the unattend tab in both themes';
    await screenshotBothThemes(page, [
      {
        name: 'vm-settings-unattend',
        open: () => openSettings(),
        ready: async () => {
          await preview.filter({ hasText: '<TimeZone>W. Europe Standard Time</TimeZone>' }).waitFor();
          assert.ok(await dialog.getByRole('button', { name: 'Export Final XML' }).isEnabled(), 'export enabled with a preview');
        },
      },
    ]);

    step = 'delete the profile after a confirmation';
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await confirmDelete();
    await toast('"E2E profile" deleted');
    await profiles.getByText('No profiles yet').waitFor();
    assert.equal((await apiCall('GET', '/unattend-profiles')).body.data.length, 0);

    step = 'playbooks: a broken one, imported from a .yml, validates to "1 error" marked at line 5';
    await dialog.getByRole('tab', { name: 'Playbooks' }).click();
    await playbooks.getByText('No playbooks yet').waitFor();
    await dialog.getByLabel('Name', { exact: true }).fill('E2E playbook');
    await dialog.locator('input[type=file]').setInputFiles({ name: 'broken.yml', mimeType: 'application/yaml', buffer: Buffer.from(BROKEN_PLAYBOOK) });
    await page.waitForFunction(([el, want]) => el.value === want, [await editor.elementHandle(), BROKEN_PLAYBOOK]);
    assert.equal(await dialog.getByLabel('Name', { exact: true }).inputValue(), 'E2E playbook', 'a typed name is kept');
    await dialog.getByRole('button', { name: 'Validate' }).click();
    await verdict.filter({ hasText: '1 error' }).waitFor();
    assert.deepEqual(await errorLines.evaluateAll((els) => els.map((e) => e.dataset.line)), ['5']);
    assert.match(await errorLines.first().getAttribute('title'), /roles\.1\.tags: "tags" must be a list of strings/);
    await dialog.getByTestId('playbook-issues').getByText('line 5:5').waitFor();

    step = 'saving the broken playbook is refused with the same mark';
    expectFailed(422);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await toast('Not saved: fix the errors marked in the editor.');
    assert.deepEqual(await errorLines.evaluateAll((els) => els.map((e) => e.dataset.line)), ['5']);
    assert.equal((await apiCall('GET', '/playbooks')).body.data.length, 0);

    step = 'screenshots of a marked playbook in both themes';
    const showBroken = async () => {
      await openSettings('Playbooks');
      await dialog.getByLabel('Name', { exact: true }).fill('E2E playbook');
      await editor.fill(BROKEN_PLAYBOOK);
      await dialog.getByRole('button', { name: 'Validate' }).click();
    };
    await screenshotBothThemes(page, [{ name: 'vm-settings-playbooks', open: showBroken, ready: () => verdict.filter({ hasText: '1 error' }).waitFor() }]);

    step = 'fixed, it validates, saves as the default and is listed';
    await editor.fill(FIXED_PLAYBOOK);
    await dialog.getByRole('button', { name: 'Validate' }).click();
    await verdict.filter({ hasText: 'Valid (0 warnings)' }).waitFor();
    assert.equal(await errorLines.count(), 0);
    await dialog.getByRole('checkbox', { name: 'Default' }).check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await toast('"E2E playbook" saved');
    await playbooks.getByRole('option', { name: /E2E playbook/, selected: true }).locator('[aria-label="default"]').waitFor();
    const saved = (await apiCall('GET', '/playbooks')).body.data;
    assert.deepEqual([saved.length, saved[0].content, saved[0].is_default], [1, FIXED_PLAYBOOK, true]);

    step = 'unsaved edits: switching asks first; Cancel keeps them, Discard drops them';
    await editor.fill(`${FIXED_PLAYBOOK}# unsaved\n`);
    await dialog.getByRole('button', { name: 'New playbook' }).click();
    const discard = 'Discard the unsaved changes in the editor?';
    await answerConfirm(page, 'Cancel', discard);
    assert.equal(await editor.inputValue(), `${FIXED_PLAYBOOK}# unsaved\n`);
    await playbooks.getByRole('option', { name: /E2E playbook/ }).click();
    await answerConfirm(page, 'Discard', discard);
    assert.equal(await editor.inputValue(), FIXED_PLAYBOOK);

    step = 'delete the playbook after a confirmation';
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await confirmDelete();
    await toast('"E2E playbook" deleted');
    await playbooks.getByText('No playbooks yet').waitFor();
    assert.equal((await apiCall('GET', '/playbooks')).body.data.length, 0);

    step = 'resources: a project profile is saved to the settings (RAM in MB)';
    await dialog.getByRole('tab', { name: 'Resources' }).click();
    await dialog.getByLabel('wow_tbc CPU Cores').fill('4');
    await dialog.getByLabel('wow_tbc RAM GiB').fill('8');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await toast('"Project Resource Profiles" saved');
    const res = (await apiCall('GET', '/settings/vmgenerator/projectResources')).body.data;
    assert.deepEqual(res.wow_tbc, { cores: 4, memoryMb: 8192, diskGb: 128 });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    step = 'service site without a URL: "not configured"';
    await page.goto(url('/vms/sites/syncthing'));
    await page.getByRole('heading', { name: 'SyncThing' }).waitFor();
    await page.getByTestId('site-not-configured').getByText('Service URL is not configured in VM settings.').waitFor();
    assert.equal(await page.getByTestId('site-frame').count(), 0);

    step = 'with a SyncThing URL: a full-size frame of the gateway showing the upstream';
    await openSettings('Services');
    await dialog.getByLabel('SyncThing URL').fill('not a url');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.locator('.ant-form-item-explain-error', { hasText: 'Enter a full URL such as https://host:8006' }).waitFor();
    await dialog.getByLabel('SyncThing URL').fill(upstream.url);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await toast('"Services" saved');
    const services = (await apiCall('GET', '/settings/vmgenerator/services')).body.data;
    assert.deepEqual(services, { insecureTls: false, syncthingUrl: upstream.url });
    const frame = page.getByTestId('site-frame');
    const openSite = async () => {
      await page.goto(url('/vms/sites/syncthing'));
      await frame.waitFor();
    };
    await openSite();
    // The frame opens the gateway's own origin through a one-use hand-off link.
    const src = new URL(await frame.getAttribute('src'));
    assert.equal(src.origin, server.gatewayUrl);
    assert.equal(src.pathname, '/_botmox/handoff');
    assert.ok(src.searchParams.get('ticket')?.startsWith('bmx_gwt_'), src.toString());
    await page.frameLocator('[data-testid="site-frame"]').getByText(UPSTREAM_TEXT).waitFor();
    assert.ok(upstream.credentials.length > 0 && upstream.credentials.every((c) => !c.includes('bmx_s_')), `the session stays with us: ${JSON.stringify(upstream.credentials)}`);
    const box = await frame.boundingBox();
    assert.ok(box && box.height >= 600 && box.width >= 1000, `full size: ${JSON.stringify(box)}`);
    await page.getByRole('button', { name: 'Reload' }).click();
    await page.frameLocator('[data-testid="site-frame"]').getByText(UPSTREAM_TEXT).waitFor();
    await screenshotBothThemes(page, [
      { name: 'vm-sites', open: openSite, ready: () => page.frameLocator('[data-testid="site-frame"]').getByText(UPSTREAM_TEXT).waitFor() },
    ]);

    step = 'the VMs page links to the sites';
    await page.goto(url('/vms'));
    await page.getByRole('button', { name: 'Sites' }).hover();
    await page.getByRole('menuitem', { name: 'SyncThing' }).click();
    await page.waitForURL((u) => u.pathname === '/vms/sites/syncthing');
    await frame.waitFor();

    step = 'a user without the infra role is told so, and has no frame';
    const created = await apiCall('POST', '/admin/users', { email: 'operator@example.com', password: 'operator password 1', roles: ['api'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const other = await newPage(browser);
    const otherErrors = collectConsoleErrors(other.page);
    await signIn(other.page, baseUrl, { email: 'operator@example.com', password: 'operator password 1' });
    await other.page.goto(url('/vms/sites/syncthing'));
    await other.page.getByTestId('site-no-access').waitFor();
    assert.equal(await other.page.getByTestId('site-frame').count(), 0);
    await other.context.close();
    otherErrors.assertClean();

    consoleErrors.assertClean();
  } catch (e) {
    await explainFailure(e, page, 'vm-settings', [`step: ${step}`, consoleErrors.report(), `--- server log ---\n${server.log().slice(-4000)}`]);
    throw e;
  } finally {
    await browser.close();
    await server.stop();
    upstream.server.close();
  }
});
