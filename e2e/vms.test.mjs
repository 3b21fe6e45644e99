// Browser test of the agent and VM pages against the real stack: the server ($BOTMOX_BIN), the
// Proxmox VE + SSH double (`botmox-pve-double`) and a real `botmox-agent`, both taken from the
// directory of $BOTMOX_BIN (cargo build -p botmox -p botmox-agent -p botmox-testkit).
//
// Pair an agent through the UI's dialog and the agent CLI, watch it turn online, create two VMs
// through the queue (its columns; custom resources reach the clone's config and disk; a done
// VM's setup stepper follows the progress it reports), see them start in the table, open a
// command's log, queue the deletion of an orphan VM through "Delete Existing VMs" (a VM a bot
// links to is LOCKED with its reason) and see it vanish, revoke the agent and see it go
// revoked/offline. No console errors; screenshots of each page in both themes go to
// e2e/screenshots/. Waits are Playwright's auto-waiting locators with deadlines; no fixed sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  START_MS,
  collectConsoleErrors,
  explainFailure,
  launchBrowser,
  newPage,
  noChromium,
  pageApi,
  pageApiOk,
  screenshot,
  screenshotBothThemes,
  signIn,
  spawnLogged,
  startServer,
} from './support.mjs';

/** Proxmox work goes through the agent and the double's tasks: give it longer. */
const VM_MS = 60_000;

/** The SMBIOS UUID given to the template, and so to its clones in the double. */
const VM_UUID = '5f0c8a52-aaaa-4bbb-8ccc-0123456789ab';
const MINIMAL_PROFILE = {
  user: { nameMode: 'random' },
  computerName: { mode: 'random' },
  locale: {},
  softwareRemoval: { mode: 'fixed' },
  capabilityRemoval: { mode: 'fixed' },
  visualEffects: {},
  desktopIcons: {},
  windowsSettings: {},
};

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery' };

function binaries() {
  const server = process.env.BOTMOX_BIN;
  if (!server) return { skip: 'set BOTMOX_BIN (server binary)' };
  const noBrowser = noChromium();
  if (noBrowser) return { skip: noBrowser };
  const dir = path.dirname(server);
  return { server, agent: path.join(dir, 'botmox-agent'), pve: path.join(dir, 'botmox-pve-double') };
}

const bins = binaries();

test('agents and VMs: pair, online, queue two VMs, start them, command log, delete one, revoke', { skip: bins.skip ?? false, timeout: 420_000 }, async (t) => {
  for (const [name, file] of [['botmox-agent', bins.agent], ['botmox-pve-double', bins.pve]]) {
    assert.ok(existsSync(file), `${name} is missing next to BOTMOX_BIN (${file}): cargo build -p botmox-agent -p botmox-testkit`);
  }
  const tmp = mkdtempSync(path.join(tmpdir(), 'botmox-e2e-vms-'));
  const procs = [];
  let browser = null;
  let page = null;
  let step = 'start the PVE double';
  try {
    const pveProc = spawnLogged(bins.pve, []);
    procs.push(pveProc);
    const line = await pveProc.until(() => pveProc.log().split('\n').find((l) => l.startsWith('{')), START_MS);
    assert.ok(line, `the PVE double printed no JSON line:\n${pveProc.log()}`);
    const pve = JSON.parse(line).pve;

    step = 'start the server';
    const server = await startServer(bins.server, { dataDirPrefix: 'botmox-e2e-vms-data-' });
    procs.push(server);
    const { baseUrl } = server;
    const url = (p) => new URL(p, baseUrl).toString();
    const setup = await fetch(url('/api/v1/auth/setup'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: server.setupToken, ...ADMIN }),
    });
    assert.equal(setup.status, 201, await setup.text());
    t.diagnostic(`server ${baseUrl}, PVE double ${pve.url}`);

    browser = await launchBrowser();
    ({ page } = await newPage(browser, { viewport: { width: 1600, height: 1000 }, clipboardOrigin: baseUrl }));
    const consoleErrors = collectConsoleErrors(page);

    step = 'sign in';
    await signIn(page, baseUrl, ADMIN);

    step = 'agents: pairing dialog shows code, link, URL, QR and countdown';
    await page.goto(url('/agents'));
    await page.getByText('No agents yet.').waitFor();
    await page.getByRole('button', { name: 'Pair a new agent' }).click();
    const dialog = page.getByTestId('pair-dialog');
    await dialog.getByLabel('Agent name').fill('Lab');
    await dialog.getByRole('button', { name: 'Create pairing code' }).click();
    const code = (await dialog.getByTestId('pair-code').innerText()).trim();
    assert.match(code, /^[0-9a-f]{32}$/);
    assert.match(await dialog.getByTestId('pair-uri').innerText(), /^botmox:\/\/pair\?bundle=/);
    assert.match(await dialog.getByTestId('pair-url').innerText(), /\/agent\/pair\?bundle=/);
    await dialog.getByTestId('pair-qr').locator('svg').waitFor();
    assert.match(await dialog.getByTestId('pair-countdown').innerText(), /^Expires in 1[45]:\d\d$/);
    await screenshot(page, 'agents-pair-dark');

    step = 'agent CLI: pair with the code, add the double as target, run';
    const agentDir = path.join(tmp, 'agent');
    const cli = (args, env = {}) =>
      execFileSync(bins.agent, ['--config-dir', agentDir, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
    cli(['pair', code, '--server', baseUrl]);
    cli(['target', 'add', '--name', 'double', '--url', pve.url, '--node', pve.node, '--token-id', pve.token_id, '--fingerprint', pve.fingerprint_sha256], {
      BOTMOX_TARGET_TOKEN_SECRET: pve.token_secret,
    });
    const agent = spawnLogged(bins.agent, ['--config-dir', agentDir, 'run', '--heartbeat-secs', '2']);
    procs.push(agent);

    step = 'the dialog and the list see the agent online without a reload';
    await dialog.getByText('Agent Lab is paired and online.').waitFor({ timeout: VM_MS });
    await dialog.locator('.ant-modal-footer').getByRole('button', { name: 'Close' }).click();
    const agentRow = page.getByTestId('agents-table').locator('tr', { hasText: 'Lab' });
    await agentRow.getByText('ONLINE').waitFor();

    step = 'VMs: the table shows the double\'s VMs';
    await page.goto(url('/vms'));
    await page.getByTestId('vm-status-101').getByText('RUNNING').waitFor({ timeout: VM_MS });
    await page.getByTestId('vm-table').getByText('win11-template').waitFor();

    step = 'VM Settings → Proxmox checks the clone source through the agent';
    await page.getByTestId('vm-settings').click();
    const proxmox = page.getByTestId('proxmox-tab');
    assert.equal(await proxmox.getByTestId('proxmox-no-agent').count(), 0, 'an online agent: no warning');
    await proxmox.getByLabel('Clone Source VM ID').fill('100');
    await proxmox.getByTestId('clone-check').getByText(/^Template VM 100 found on /).waitFor({ timeout: VM_MS });
    await proxmox.getByText('Auto-select best disk (most free space)').waitFor();
    await page.locator('.ant-modal-close').click();
    await proxmox.waitFor({ state: 'detached' });

    step = 'queue two VMs with generated names and process them';
    const queue = page.getByTestId('vm-queue');
    await page.getByRole('button', { name: '+ VM' }).click();
    await queue.getByText('102').waitFor();
    await page.getByRole('button', { name: '+ VM' }).click();
    await queue.getByText('103').waitFor();

    step = 'queue columns: storage auto, no project (custom resources), default profile and playbook';
    const row103 = queue.locator('tr.ant-table-row', { hasText: '103' });
    await row103.getByText('auto (most free)').waitFor();
    await row103.getByText('Custom Configuration').waitFor();
    await row103.getByText('Default playbook').waitFor();
    await row103.getByText('2 CPU · 4 GiB · 128 GB').waitFor();
    step = 'queue: custom resources for VM 103';
    await row103.getByRole('button', { name: /^Resources / }).click();
    const resEditor = page.locator('.bm-vm-reseditor');
    await resEditor.getByRole('spinbutton', { name: 'CPU Cores' }).fill('3');
    await resEditor.getByRole('spinbutton', { name: 'RAM GiB' }).fill('6');
    await resEditor.getByRole('spinbutton', { name: 'Disk GiB' }).fill('200');
    await row103.getByText('3 CPU · 6 GiB · 200 GB').waitFor();
    await page.keyboard.press('Escape');

    step = 'give the template an SMBIOS UUID through the agent (the double\'s clones copy it)';
    const agentId = (await pageApiOk(page, 'GET', '/agents')).data.find((a) => a.name === 'Lab').id;
    const queued = await pageApi(page, 'POST', '/vm-ops/proxmox/update-config', {
      agent_id: agentId,
      params: { vmid: 100, config: { smbios1: `uuid=${VM_UUID}` } },
    });
    assert.equal(queued.status, 202, JSON.stringify(queued.body));
    const deadline = Date.now() + VM_MS;
    for (;;) {
      const { status } = (await pageApi(page, 'GET', `/vm-ops/commands/${queued.body.data.id}`)).body.data;
      if (status === 'succeeded') break;
      assert.ok(!['failed', 'expired', 'cancelled'].includes(status) && Date.now() < deadline, `update-config: ${status}`);
      await page.waitForTimeout(200);
    }

    await page.getByTestId('start-processing').click();
    await page.getByTestId('chip-done').getByText('Done 2').waitFor({ timeout: VM_MS });
    for (const id of [102, 103]) await page.getByTestId(`vm-status-${id}`).getByText('STOPPED').waitFor({ timeout: VM_MS });

    step = 'setup progress of a done VM: waiting, then the steps the VM reports';
    const stepper = page.getByTestId(`setup-${VM_UUID}`).first();
    await stepper.getByText('Waiting for the VM to report…').waitFor();
    const generated = await pageApi(page, 'POST', '/provisioning/generate-iso-payload', {
      profile_config: MINIMAL_PROFILE,
      vm_uuid: VM_UUID,
      ip: { address: '10.0.0.5', gateway: '10.0.0.1' },
    });
    assert.equal(generated.status, 200, JSON.stringify(generated.body));
    const report = async (stepName, status) => {
      const r = await fetch(url('/api/v1/provisioning/report-progress'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: generated.body.data.token, vm_uuid: VM_UUID, step: stepName, status, details: {} }),
      });
      assert.equal(r.status, 200, await r.text());
    };
    await report('windows_installed', 'completed');
    await report('downloader_ready', 'running');
    await stepper.locator('[data-step="windows_installed"][data-status="finish"]', { hasText: 'Windows Installed' }).waitFor();
    await stepper.locator('[data-step="downloader_ready"][data-status="process"]', { hasText: 'Downloader Ready' }).waitFor();
    for (const later of ['app_downloaded', 'playbook_running', 'completed']) {
      assert.equal(await stepper.locator(`[data-step="${later}"]`).getAttribute('data-status'), 'wait', later);
    }
    await stepper.getByText('Waiting for the VM to report…').waitFor({ state: 'detached' });
    await screenshot(page, 'vms-queue-progress-dark');

    step = 'VM 103 got its resources: cores and memory in its config, the disk grown to 200G';
    await page.getByTestId('vm-config-103').click();
    const configDialog = page.getByTestId('vm-config-dialog');
    await configDialog.getByText(/size=200G/).waitFor();
    assert.equal(await configDialog.getByLabel('CPU cores').inputValue(), '3');
    assert.equal(await configDialog.getByLabel('Memory (MiB)').inputValue(), '6144');
    await configDialog.getByRole('button', { name: 'Cancel' }).click();
    await configDialog.waitFor({ state: 'detached' });

    step = 'start all: both VMs run in the table';
    await page.getByRole('button', { name: 'Start all' }).click();
    for (const id of [102, 103]) await page.getByTestId(`vm-status-${id}`).getByText('RUNNING').waitFor({ timeout: VM_MS });
    await queue.getByText('RUNNING').first().waitFor();

    step = 'open a clone command\'s log';
    const consoleTable = page.getByTestId('vm-console');
    await consoleTable.getByRole('button', { name: /^clone 100 → 10[23]/ }).first().click();
    const viewer = page.getByTestId('task-viewer');
    const log = viewer.getByTestId('task-log');
    await log.getByText('queued').waitFor();
    await log.getByText('status → succeeded').waitFor();
    await viewer.getByText(/"newid": 10[23]/).waitFor();
    await screenshot(page, 'vms-task-dark');
    await viewer.getByRole('button', { name: 'OK' }).click();
    await viewer.waitFor({ state: 'detached' });

    step = 'Ctrl+L copies the console, F7 resets its view';
    await page.keyboard.press('Control+l');
    await page.locator('.ant-message').getByText('Console copied').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(copied, /clone 100 → 10[23]/, copied);
    // The page's reads (VM lists, statuses, storages) stay out of the console until asked for.
    const reads = consoleTable.getByRole('button', { name: /^(list|list-vms|vm-status|cluster-resources|status)\b/ });
    assert.equal(await reads.count(), 0, 'reads hidden by default');
    assert.doesNotMatch(copied, / {2}(list|list-vms|vm-status|cluster-resources|status)( |$)/m, copied);
    await page.getByRole('switch', { name: 'Show reads' }).click();
    await reads.first().waitFor();
    await page.getByRole('switch', { name: 'Show reads' }).click();
    await reads.first().waitFor({ state: 'detached' });
    await page.keyboard.press('F7');
    await page.locator('.ant-message').getByText('Reset complete').waitFor();
    // The reset reads the VMs again, and that read may already show as a new task: the clones
    // leaving the view is what is certain.
    await consoleTable.getByRole('button', { name: /^clone 100/ }).first().waitFor({ state: 'detached' });
    await page.getByTestId('vm-status-103').getByText('RUNNING').waitFor({ timeout: VM_MS });

    step = 'datacenter: the agent, its computer and its VMs';
    await page.goto(url('/datacenter'));
    await page.getByText('3 / 3').waitFor({ timeout: VM_MS });

    step = 'screenshots of the pages in both themes';
    await screenshotBothThemes(page, [
      { name: 'agents', open: () => page.goto(url('/agents')), ready: () => agentRow.getByText('ONLINE').waitFor({ timeout: VM_MS }) },
      {
        name: 'vms',
        open: () => page.goto(url('/vms')),
        ready: () => page.getByTestId('vm-status-103').getByText('RUNNING').waitFor({ timeout: VM_MS }),
      },
      { name: 'datacenter', open: () => page.goto(url('/datacenter')), ready: () => page.getByText('3 / 3').waitFor({ timeout: VM_MS }) },
    ]);

    step = 'delete VMs: a farming bot with a proxy links to bot-01 (101), the clones are orphans';
    const bot = await pageApi(page, 'POST', '/bots', { name: 'Farmer', status: 'farming', vm: { name: 'bot-01' } });
    assert.equal(bot.status, 201, JSON.stringify(bot.body));
    const proxy = await pageApi(page, 'POST', '/resources/proxies', { ip: '10.9.9.9', port: 3128, type: 'http', bot_id: bot.body.data.id });
    assert.equal(proxy.status, 201, JSON.stringify(proxy.body));
    await page.goto(url('/vms'));
    await page.getByTestId('vm-status-102').getByText('RUNNING').waitFor({ timeout: VM_MS });
    await page.getByRole('button', { name: 'Delete VM' }).click();
    const delDialog = page.getByTestId('delete-vms-dialog');
    const candidates = delDialog.getByTestId('delete-candidates');
    const candidate = (id) => candidates.locator('tr.ant-table-row', { hasText: `[ID ${id}]` });
    await candidate(101).getByText('status=farming, proxy linked').waitFor();
    await candidate(101).getByText('Farmer').waitFor();
    assert.equal(await candidate(101).getByTestId('del-tags-101').innerText(), 'RUNNINGLOCKED');
    assert.ok(await candidate(101).getByRole('checkbox').isDisabled(), 'a LOCKED VM cannot be selected');
    for (const id of [102, 103]) {
      await candidate(id).getByText('Orphan VM: no linked account in database').waitFor();
      assert.equal(await candidate(id).getByTestId(`del-tags-${id}`).innerText(), 'RUNNINGALLOWED');
    }
    assert.equal(await candidate(100).count(), 0, 'the template is no candidate');
    await delDialog.getByText('Allowed 2').waitFor();
    await delDialog.getByText('Visible 3').waitFor();

    step = 'delete VMs: the view hides LOCKED rows and is saved with the VM settings';
    await delDialog.getByRole('checkbox', { name: 'Show LOCKED' }).uncheck();
    await candidate(101).waitFor({ state: 'detached' });
    await delDialog.getByText('Visible 2').waitFor();
    await delDialog.getByText('View (3/4)').waitFor();
    const savedDeadline = Date.now() + VM_MS;
    for (;;) {
      const saved = (await pageApiOk(page, 'GET', '/settings/vmgenerator/deleteVms')).data;
      if (saved?.view?.locked === false) break;
      assert.ok(Date.now() < savedDeadline, `view not saved: ${JSON.stringify(saved)}`);
      await page.waitForTimeout(200);
    }

    step = 'delete VMs: queue VM 102, process: it is stopped, deleted and leaves the table';
    await candidate(102).getByRole('checkbox').check();
    await delDialog.getByText('Ready to queue 1').waitFor();
    // The page is still in the light theme the screenshots above ended with.
    await screenshot(page, 'vms-delete-light');
    await delDialog.getByRole('button', { name: 'Add delete tasks' }).click();
    await delDialog.waitFor({ state: 'detached' });
    const deleteRow = queue.locator('tr.ant-table-row', { hasText: '[ID 102]' });
    await deleteRow.getByText('QUEUED').waitFor();
    await page.getByTestId('start-processing').click();
    await deleteRow.getByText('DONE').waitFor({ timeout: VM_MS });
    await page.getByTestId('vm-status-102').waitFor({ state: 'detached', timeout: VM_MS });
    await page.getByTestId('vm-status-103').getByText('RUNNING').waitFor();

    step = 'revoke the agent with a reason: it turns revoked and stops';
    await page.goto(url('/agents'));
    await agentRow.getByText('ONLINE').waitFor();
    await agentRow.getByRole('button', { name: 'Revoke' }).click();
    await page.getByLabel('Reason').fill('e2e: machine retired');
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await agentRow.getByText('REVOKED').waitFor();
    assert.ok(await agent.until(() => agent.exited, VM_MS), `the agent kept running after revocation:\n${agent.log()}`);
    await page.goto(url('/vms'));
    // A revoked agent is no paired agent: the panes stay, disconnected, offering a new pairing.
    await page.getByTestId('vms-no-agent').getByText(/^No agent is paired yet/).waitFor();
    await page.getByTestId('vm-list-disconnected').getByRole('button', { name: 'Pair an agent' }).waitFor();
    await page.getByTestId('queue-badge').filter({ hasText: 'Disconnected' }).waitFor();

    consoleErrors.assertClean();
  } catch (e) {
    await explainFailure(e, page, 'vms', [`failed at step: ${step}`, `--- logs ---\n${procs.map((p) => p.log().slice(-3000)).join('\n---\n')}`]);
    throw e;
  } finally {
    await browser?.close().catch(() => {});
    for (const p of procs.reverse()) await p.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
});
