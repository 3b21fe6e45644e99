// Browser test of the admin screens (secrets, artifacts, leases) against a real --demo server.
//
// Server: BOTMOX_BIN=/path/to/botmox (spawned as `botmox serve --listen 127.0.0.1:0 --data-dir
// <tmp> --demo`). Browser: Debian's chromium through playwright-core; nothing is downloaded.
//
// Flow: a secret is created, and its value is never in the page afterwards (nor after a
// rotation), the agents-only value route is never requested; bound to a VM and unbound,
// deleted. A release is uploaded with a progress bar that ends at 100 %, a duplicate shows the
// server's refusal, its status is edited, it is assigned to the demo user. A module license and an
// entitlement are created through the Leases page (a missing id shows its message); a lease is
// issued and the release downloaded through the API as a runner would, which shows up in the
// download audit; the lease is revoked from the page; entitlement and module license are deleted.
// A plain user sees no Administration section and an "Admins only" page. No console errors
// besides the refusals provoked on purpose; screenshots of the three pages in both themes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  answerConfirm,
  collectConsoleErrors,
  DEMO_USER,
  explainFailure,
  launchBrowser,
  newPage,
  noChromium,
  pageApi,
  screenshotBothThemes,
  signIn,
  startServer,
  STEP_MS,
} from './support.mjs';

const SECRET_VALUE = 'e2e-planted-secret-4f1d9a7c';
const ROTATED_VALUE = 'e2e-rotated-secret-0b3e6c21';
const VM = 'vm-e2e-0000-0001';
const PLAIN_USER = { email: 'plain@example.com', password: 'plain-user-password-1' };
/** Big enough that the upload reports progress on its way. */
const FILE = randomBytes(24 * 1024 * 1024);
const FILE_SHA = createHash('sha256').update(FILE).digest('hex');

const skip = !process.env.BOTMOX_BIN ? 'set BOTMOX_BIN (server binary)' : noChromium();

test('admin screens: secrets, artifacts with upload progress and download audit, leases; admins only', { skip, timeout: 300_000 }, async (t) => {
  const server = await startServer(process.env.BOTMOX_BIN, { args: ['--demo'], dataDirPrefix: 'botmox-e2e-admin-' });
  const { baseUrl } = server;
  t.diagnostic(`server ${baseUrl}`);
  // A file on disk: the browser reads it directly, no 24 MB over the DevTools protocol.
  const fileDir = mkdtempSync(path.join(tmpdir(), 'botmox-e2e-admin-file-'));
  const filePath = path.join(fileDir, 'runner.exe');
  writeFileSync(filePath, FILE);
  const browser = await launchBrowser();
  const { page } = await newPage(browser);
  const consoleErrors = collectConsoleErrors(page);
  const { expectFailed } = consoleErrors;
  // Every request path the UI makes, to show the value route is never called.
  const requested = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));

  const visit = (p) => page.goto(new URL(p, baseUrl).toString());
  const apiCall = async (method, p, body) => {
    const r = await pageApi(page, method, p, body);
    assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.data;
  };
  const toast = (text) => page.locator('.ant-message').getByText(text).first().waitFor();
  const dialog = () => page.locator('.ant-modal-wrap:visible .ant-modal').last();
  const confirm = (title, button = 'Delete') => answerConfirm(page, button, title);
  const fieldError = (scope, text) => scope.locator('.ant-form-item-explain-error', { hasText: text }).waitFor();
  const pick = async (scope, label, option) => {
    await scope.locator('.ant-form-item').filter({ has: page.getByLabel(label, { exact: true }) }).locator('.ant-select-selector').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: option }).first().click();
  };
  /** The value must not be anywhere in the document (text, attributes, input values) once the dialog is gone. */
  const assertNotInDom = async (value) => {
    await page.waitForFunction(() => !document.querySelector('.ant-modal input'));
    const html = await page.content();
    assert.ok(!html.includes(value), 'the secret value is in the page HTML');
    const inInputs = await page.evaluate((v) => [...document.querySelectorAll('input, textarea')].some((i) => i.value.includes(v)), value);
    assert.ok(!inInputs, 'the secret value is in an input');
  };
  /** The header's breadcrumbs read `parts` in order. */
  const crumbs = async (...parts) => {
    const bar = page.locator('.bm-crumbs');
    await bar.getByText(parts.at(-1), { exact: true }).waitFor();
    const text = (await bar.innerText()).replace(/\s+/g, ' ');
    assert.match(text, new RegExp(parts.join('\\s*/\\s*')), `breadcrumbs: ${text}`);
  };

  let step = 'sign in';
  try {
    await signIn(page, baseUrl);
    const me = (await apiCall('GET', '/auth/whoami')) ?? {};
    const myId = me.uid ?? me.id;
    assert.ok(myId, `whoami: ${JSON.stringify(me)}`);

    // ---- Access -------------------------------------------------------------------------
    step = 'the admin sees the Administration section and its crumbs';
    await page.locator('.bm-tree').getByText('Administration', { exact: true }).waitFor();
    await visit('/admin/secrets');
    await crumbs('Administration', 'Secrets');

    // ---- Secrets ------------------------------------------------------------------------
    step = 'secrets: an empty list says so';
    const secretsTable = page.getByTestId('secrets-table');
    await secretsTable.getByText('No secrets yet').waitFor();

    step = 'secrets: the value is required, next to its field';
    await page.getByRole('button', { name: 'New secret' }).click();
    await dialog().getByLabel('Label', { exact: true }).fill('Proxmox root');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await fieldError(dialog(), 'Enter the value to store');

    step = 'secrets: create';
    await dialog().getByLabel('Value', { exact: true }).fill(SECRET_VALUE);
    assert.equal(await dialog().getByLabel('Value', { exact: true }).getAttribute('type'), 'password');
    assert.equal(await dialog().locator('.ant-input-password-icon').count(), 0, 'no reveal toggle');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await toast('Secret saved');
    const row = secretsTable.locator('tbody tr', { hasText: 'Proxmox root' });
    await row.waitFor();
    await row.getByText('v1').waitFor();
    await row.getByText('unbound').waitFor();
    const [secret] = await apiCall('GET', '/secrets');
    assert.equal(secret.label, 'Proxmox root');
    assert.ok(!JSON.stringify(secret).includes(SECRET_VALUE), 'the API answers metadata only');
    await assertNotInDom(SECRET_VALUE);

    step = 'secrets: rotate';
    await page.getByTestId(`secret-rotate-${secret.id}`).click();
    await dialog().getByLabel('New value', { exact: true }).fill(ROTATED_VALUE);
    await dialog().getByRole('button', { name: 'Rotate' }).click();
    await toast('Secret "Proxmox root" rotated');
    await row.getByText('v2').waitFor();
    await assertNotInDom(ROTATED_VALUE);
    await assertNotInDom(SECRET_VALUE);

    step = 'secrets: bind to a VM (the field is required), then unbind';
    await page.getByTestId(`secret-bindings-${secret.id}`).click();
    const bindings = page.getByTestId('secret-bindings');
    await bindings.getByText('Not bound').waitFor();
    await pick(bindings, 'Scope', 'VM');
    await bindings.getByLabel('Target', { exact: true }).fill(VM);
    await bindings.getByRole('button', { name: 'Bind' }).click();
    await fieldError(bindings, 'Name the field the secret fills');
    await bindings.getByLabel('Field name', { exact: true }).fill('proxmox_password');
    await bindings.getByRole('button', { name: 'Bind' }).click();
    const bindingRow = bindings.locator('tbody tr', { hasText: 'proxmox_password' });
    await bindingRow.getByText(`VM: ${VM}`).waitFor();
    const [binding] = await apiCall('GET', `/secrets/bindings?secret_ref=${secret.id}`);
    assert.equal(binding.scope_id, VM);
    await bindings.getByRole('button', { name: 'Close', exact: true }).last().click();
    await row.getByText('VM').waitFor();
    await page.getByTestId(`secret-bindings-${secret.id}`).click();
    await page.getByTestId(`unbind-${binding.id}`).click();
    await confirm('Remove this binding?');
    await bindings.getByText('Not bound').waitFor();
    assert.deepEqual(await apiCall('GET', `/secrets/bindings?secret_ref=${secret.id}`), []);
    await bindings.getByRole('button', { name: 'Close', exact: true }).last().click();
    await row.getByText('unbound').waitFor();

    step = 'secrets: delete asks first';
    await page.getByTestId(`secret-delete-${secret.id}`).click();
    await confirm('Delete secret "Proxmox root"?');
    await secretsTable.getByText('No secrets yet').waitFor();
    assert.ok(!requested.some((p) => /\/secrets\/[^/]+\/value$/.test(p)), 'the UI never asks for a value');

    // ---- Artifacts: upload --------------------------------------------------------------
    step = 'artifacts: upload with progress';
    await visit('/admin/artifacts');
    await crumbs('Administration', 'Artifacts');
    const releasesTable = page.getByTestId('releases-table');
    await releasesTable.getByText('No releases yet').waitFor();
    const noDialog = () => page.waitForFunction(() => !document.querySelector('.ant-modal input'));
    const upload = async (version) => {
      await noDialog();
      await page.getByRole('button', { name: 'Upload release' }).click();
      await dialog().getByTestId('upload-file').setInputFiles(filePath);
      await dialog().getByLabel('Module', { exact: true }).fill('runner');
      await dialog().getByLabel('Version', { exact: true }).fill(version);
      // Every percentage the bar shows, recorded as it changes.
      await page.evaluate(() => {
        window.__pcts = [];
        new MutationObserver(() => {
          const bar = document.querySelector('[data-testid="upload-progress"]');
          const p = bar?.getAttribute('data-percent');
          if (p !== undefined && p !== null && window.__pcts.at(-1) !== p) window.__pcts.push(p);
        }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-percent'] });
      });
      await dialog().getByRole('button', { name: 'Upload release' }).click();
    };
    await upload('1.0.0');
    const progress = page.getByTestId('upload-progress');
    await progress.and(page.locator('[data-percent="100"]')).waitFor({ timeout: STEP_MS * 3 });
    await progress.locator('.ant-progress-status-success').waitFor();
    await progress.getByText('Release runner 1.0.0 uploaded').waitFor();
    const pcts = (await page.evaluate(() => window.__pcts)).map(Number);
    assert.ok(pcts.some((p) => p < 100) && pcts.at(-1) === 100, `progress went ${pcts.join(' → ')}`);
    await dialog().getByRole('button', { name: 'Close', exact: true }).last().click();
    const releaseRow = releasesTable.locator('tbody tr', { hasText: '1.0.0' });
    await releaseRow.getByText('runner', { exact: true }).waitFor();
    await releaseRow.getByText('24 MiB').waitFor();
    await releaseRow.getByText('active', { exact: true }).waitFor();
    const [release] = await apiCall('GET', '/artifacts/releases');
    assert.equal(release.sha256, FILE_SHA, 'the server hashed what the browser sent');
    assert.equal(await releaseRow.locator('.bm-admin-sha').innerText(), FILE_SHA);

    step = 'artifacts: a duplicate shows the server refusal';
    // Announced before the upload: the refusal can reach the console before upload() returns.
    expectFailed(409);
    await upload('1.0.0');
    await dialog().locator('.ant-alert-error').getByText(/already exists|exists/i).waitFor();
    await dialog().getByRole('button', { name: 'Cancel' }).click();

    step = 'artifacts: edit the status';
    await page.getByTestId(`release-edit-${release.id}`).click();
    await pick(dialog(), 'Status', 'disabled');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await toast('Release saved');
    await releaseRow.getByText('disabled', { exact: true }).waitFor();
    await page.getByTestId(`release-edit-${release.id}`).click();
    await pick(dialog(), 'Status', 'active');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await releaseRow.getByText('active', { exact: true }).waitFor();

    step = 'artifacts: assign to the demo user';
    await page.getByTestId('assignments-table').getByText('Nothing assigned yet').waitFor();
    await page.getByTestId(`release-assign-${release.id}`).click();
    await pick(dialog(), 'User', DEMO_USER.email);
    await dialog().getByRole('button', { name: 'Assign' }).click();
    await toast('Release assigned');
    const assignment = page.getByTestId('assignments-table').locator('tbody tr', { hasText: DEMO_USER.email });
    await assignment.getByText('runner 1.0.0').waitFor();
    await page.getByTestId('download-audit').getByText('No downloads yet').waitFor();

    // ---- Leases -------------------------------------------------------------------------
    step = 'leases: a module license needs an ID';
    await visit('/admin/leases');
    await crumbs('Administration', 'Leases');
    await page.getByTestId('licenses-table').getByText('No module licenses').waitFor();
    await page.getByRole('button', { name: 'New module license' }).click();
    await dialog().getByRole('button', { name: 'Save' }).click();
    await fieldError(dialog(), 'Give the module license an ID');

    step = 'leases: create a module license';
    await dialog().getByLabel('Module license ID', { exact: true }).fill('lic-e2e');
    await pick(dialog(), 'Type', 'perpetual');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await toast('Module license saved');
    const licenseRow = page.getByTestId('licenses-table').locator('tbody tr', { hasText: 'lic-e2e' });
    await licenseRow.getByText('perpetual').waitFor();
    await licenseRow.getByText('every user').waitFor();
    await licenseRow.getByText('never').waitFor();

    step = 'leases: create an entitlement';
    await page.getByRole('button', { name: 'New entitlement' }).click();
    await pick(dialog(), 'User', DEMO_USER.email);
    await dialog().getByLabel('Modules', { exact: true }).fill('runner');
    await page.keyboard.press('Enter');
    await dialog().getByLabel('Max live leases', { exact: true }).fill('3');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await toast('Entitlement saved');
    const entitlementRow = page.getByTestId('entitlements-table').locator('tbody tr', { hasText: DEMO_USER.email });
    await entitlementRow.getByText('runner').waitFor();
    await entitlementRow.getByText('3', { exact: true }).waitFor();

    // ---- A runner downloads the release --------------------------------------------------
    step = 'a lease, a resolve and a download through the API';
    await apiCall('POST', '/vm/register', { vm_uuid: VM });
    const lease = await apiCall('POST', '/license/lease', { vm_uuid: VM, agent_id: 'agent-e2e', runner_id: 'runner-e2e', module: 'runner' });
    const resolved = await apiCall('POST', '/artifacts/resolve-download', { lease_token: lease.token, vm_uuid: VM, module: 'runner', platform: 'windows' });
    assert.equal(resolved.sha256, FILE_SHA);
    const got = await page.evaluate(async (url) => {
      const r = await fetch(url);
      const bytes = new Uint8Array(await r.arrayBuffer());
      const digest = await crypto.subtle.digest('SHA-256', bytes);
      return { status: r.status, sha: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('') };
    }, resolved.download_url);
    assert.deepEqual(got, { status: 200, sha: FILE_SHA });

    step = 'leases: the lease is listed and revoked from the page';
    await page.reload();
    const leaseRow = page.getByTestId('leases-table').locator('tbody tr', { hasText: lease.lease_id.slice(0, 8) });
    await leaseRow.getByText('active', { exact: true }).waitFor();
    await page.getByTestId(`lease-revoke-${lease.lease_id}`).click();
    await confirm('Revoke this lease?');
    await leaseRow.getByText('revoked', { exact: true }).waitFor();

    step = 'artifacts: the download audit shows the resolve and the download';
    await visit('/admin/artifacts');
    const audit = page.getByTestId('download-audit');
    const served = audit.locator('tbody tr', { hasText: 'download_served' });
    await served.getByText('allowed').waitFor();
    await served.getByText(DEMO_USER.email).waitFor();
    await served.getByText('127.0.0.1').waitFor();
    await audit.locator('tbody tr', { hasText: 'resolve_success' }).waitFor();
    await audit.getByText('Total 2 events').waitFor();

    // ---- Screenshots, then clean up ------------------------------------------------------
    step = 'screenshots';
    await apiCall('POST', '/secrets', { label: 'Steam API key', value: 'e2e-screenshot-value' });
    await screenshotBothThemes(page, [
      { name: 'admin-secrets', open: () => visit('/admin/secrets'), ready: () => page.getByTestId('secrets-table').getByText('Steam API key').waitFor() },
      { name: 'admin-artifacts', open: () => visit('/admin/artifacts'), ready: () => releasesTable.getByText('1.0.0').waitFor() },
      { name: 'admin-leases', open: () => visit('/admin/leases'), ready: () => page.getByTestId('licenses-table').getByText('lic-e2e').waitFor() },
    ]);

    step = 'leases: delete the entitlement and the module license';
    await page.getByTestId(`entitlement-delete-${myId}`).click();
    await confirm(`Delete the entitlement of ${DEMO_USER.email}?`);
    await page.getByTestId('entitlements-table').getByText('No entitlements').waitFor();
    await page.getByTestId('license-delete-lic-e2e').click();
    await confirm('Delete module license "lic-e2e"?');
    await page.getByTestId('licenses-table').getByText('No module licenses').waitFor();
    assert.deepEqual(await apiCall('GET', '/license/licenses'), []);

    // ---- A plain user ---------------------------------------------------------------------
    step = 'a plain user sees no Administration section and an admins-only page';
    await apiCall('POST', '/admin/users', { ...PLAIN_USER, roles: [] });
    const plain = await newPage(browser);
    const plainErrors = collectConsoleErrors(plain.page);
    try {
      await signIn(plain.page, baseUrl, PLAIN_USER);
      await plain.page.locator('.bm-tree').getByText('Overview', { exact: true }).waitFor();
      assert.equal(await plain.page.locator('.bm-tree').getByText('Administration', { exact: true }).count(), 0);
      await plain.page.goto(new URL('/admin/secrets', baseUrl).toString());
      await plain.page.getByTestId('admin-only').getByText('Admins only').waitFor();
      await plain.page.goto(new URL('/admin/leases', baseUrl).toString());
      await plain.page.getByTestId('admin-only').waitFor();
      plainErrors.assertClean();
    } finally {
      await plain.context.close();
    }

    consoleErrors.assertClean();
  } catch (e) {
    await explainFailure(e, page, 'admin', [`step: ${step}`, consoleErrors.report(), `--- server log (tail) ---\n${server.log().slice(-4000)}`]);
    throw e;
  } finally {
    await browser.close();
    await server.stop();
    rmSync(fileDir, { recursive: true, force: true });
  }
});
