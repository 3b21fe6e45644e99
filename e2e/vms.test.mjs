// Browser test of the agent and VM pages against the real stack: the server ($BOTMOX_BIN), the
// Proxmox VE + SSH double (`botmox-pve-double`) and a real `botmox-agent`, both taken from the
// directory of $BOTMOX_BIN (cargo build -p botmox -p botmox-agent -p botmox-testkit).
//
// Pair an agent through the UI's dialog and the agent CLI, watch it turn online, create two VMs
// through the queue, see them start in the table, open a command's log, revoke the agent and see
// it go revoked/offline. No console errors; screenshots of each page in both themes go to
// e2e/screenshots/. Waits are Playwright's auto-waiting locators with deadlines; no fixed sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.join(HERE, 'screenshots');
const CHROMIUM = process.env.BOTMOX_E2E_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const START_MS = Number(process.env.BOTMOX_E2E_START_TIMEOUT_MS || 60_000);
const STEP_MS = Number(process.env.BOTMOX_E2E_STEP_TIMEOUT_MS || 20_000);
/** Proxmox work goes through the agent and the double's tasks: give it longer. */
const VM_MS = 60_000;

const EMAIL = 'admin@example.com';
const PASSWORD = 'correct horse battery';
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const LISTENING_RE = /listening on (https?:\/\/)?(\[[0-9a-f:]+\]:\d+|[\w.-]+:\d+)/i;
const SETUP_RE = /\/setup\?token=([^\s"'\\,]+)/i;

/** A child process whose output is collected; `until(re)` waits for a match in it. */
function run(bin, args, env = {}) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  const proc = { child, out: '', exited: null, waiters: [] };
  const wake = () => proc.waiters.forEach((w) => w());
  const onData = (c) => {
    proc.out += c.toString('utf8').replace(ANSI, '');
    wake();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', (code, signal) => ((proc.exited = { code, signal }), wake()));
  child.on('error', (e) => ((proc.exited = { error: String(e) }), wake()));
  proc.until = (cond, ms) =>
    new Promise((resolve) => {
      const check = () => {
        const v = cond();
        if (v || proc.exited) {
          clearTimeout(timer);
          proc.waiters = proc.waiters.filter((w) => w !== check);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        proc.waiters = proc.waiters.filter((w) => w !== check);
        resolve(cond());
      }, ms);
      proc.waiters.push(check);
      check();
    });
  proc.stop = async () => {
    if (proc.exited) return;
    child.kill('SIGTERM');
    if (!(await proc.until(() => proc.exited, 10_000))) child.kill('SIGKILL');
  };
  return proc;
}

function binaries() {
  const server = process.env.BOTMOX_BIN;
  if (!server) return { skip: 'set BOTMOX_BIN (server binary)' };
  if (!existsSync(CHROMIUM)) return { skip: `no chromium at ${CHROMIUM} (apt-get install -y chromium)` };
  const dir = path.dirname(server);
  return { server, agent: path.join(dir, 'botmox-agent'), pve: path.join(dir, 'botmox-pve-double') };
}

const bins = binaries();

test('agents and VMs: pair, online, queue two VMs, start them, command log, revoke', { skip: bins.skip ?? false, timeout: 420_000 }, async (t) => {
  for (const [name, file] of [['botmox-agent', bins.agent], ['botmox-pve-double', bins.pve]]) {
    assert.ok(existsSync(file), `${name} is missing next to BOTMOX_BIN (${file}): cargo build -p botmox-agent -p botmox-testkit`);
  }
  const tmp = mkdtempSync(path.join(tmpdir(), 'botmox-e2e-vms-'));
  const procs = [];
  let browser = null;
  let page = null;
  let step = 'start the PVE double';
  try {
    const pveProc = run(bins.pve, []);
    procs.push(pveProc);
    const line = await pveProc.until(() => pveProc.out.split('\n').find((l) => l.startsWith('{')), START_MS);
    assert.ok(line, `the PVE double printed no JSON line:\n${pveProc.out}`);
    const pve = JSON.parse(line).pve;

    step = 'start the server';
    const server = run(bins.server, ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(tmp, 'data')]);
    procs.push(server);
    await server.until(() => LISTENING_RE.test(server.out) && SETUP_RE.test(server.out), START_MS);
    const m = LISTENING_RE.exec(server.out);
    assert.ok(m, `server did not start:\n${server.out}`);
    const baseUrl = `${m[1] ?? 'http://'}${m[2]}`;
    const url = (p) => new URL(p, baseUrl).toString();
    const setup = await fetch(url('/api/v1/auth/setup'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: SETUP_RE.exec(server.out)[1], email: EMAIL, password: PASSWORD }),
    });
    assert.equal(setup.status, 201, await setup.text());
    t.diagnostic(`server ${baseUrl}, PVE double ${pve.url}`);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, colorScheme: 'dark' });
    context.setDefaultTimeout(STEP_MS);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    page = await context.newPage();
    const consoleErrors = [];
    page.on('console', (msg) => msg.type() === 'error' && consoleErrors.push(msg.text()));
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    step = 'sign in';
    await page.goto(url('/login'));
    await page.getByLabel('Email', { exact: true }).fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/');

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
    await page.screenshot({ path: path.join(SHOTS, 'agents-pair-dark.png') });

    step = 'agent CLI: pair with the code, add the double as target, run';
    const agentDir = path.join(tmp, 'agent');
    const cli = (args, env = {}) =>
      execFileSync(bins.agent, ['--config-dir', agentDir, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
    cli(['pair', code, '--server', baseUrl]);
    cli(['target', 'add', '--name', 'double', '--url', pve.url, '--node', pve.node, '--token-id', pve.token_id, '--fingerprint', pve.fingerprint_sha256], {
      BOTMOX_TARGET_TOKEN_SECRET: pve.token_secret,
    });
    const agent = run(bins.agent, ['--config-dir', agentDir, 'run', '--heartbeat-secs', '2']);
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

    step = 'queue two VMs with generated names and process them';
    const queue = page.getByTestId('vm-queue');
    await page.getByRole('button', { name: '+ VM' }).click();
    await queue.getByText('102').waitFor();
    await page.getByRole('button', { name: '+ VM' }).click();
    await queue.getByText('103').waitFor();
    await page.getByTestId('start-processing').click();
    await page.getByTestId('chip-done').getByText('Done 2').waitFor({ timeout: VM_MS });
    for (const id of [102, 103]) await page.getByTestId(`vm-status-${id}`).getByText('STOPPED').waitFor({ timeout: VM_MS });

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
    await page.screenshot({ path: path.join(SHOTS, 'vms-task-dark.png') });
    await viewer.getByRole('button', { name: 'OK' }).click();

    step = 'datacenter: the agent, its computer and its VMs';
    await page.goto(url('/datacenter'));
    await page.getByText('3 / 3').waitFor({ timeout: VM_MS });

    step = 'screenshots of the pages in both themes';
    mkdirSync(SHOTS, { recursive: true });
    const pages = [
      { name: 'agents', path: '/agents', ready: () => agentRow.getByText('ONLINE') },
      { name: 'vms', path: '/vms', ready: () => page.getByTestId('vm-status-103').getByText('RUNNING') },
      { name: 'datacenter', path: '/datacenter', ready: () => page.getByText('3 / 3') },
    ];
    for (const mode of ['dark', 'light']) {
      await page.evaluate((md) => localStorage.setItem('botmox.theme', md), mode);
      for (const p of pages) {
        await page.goto(url(p.path));
        await page.waitForFunction((md) => document.documentElement.getAttribute('data-theme') === md, mode);
        await p.ready().waitFor({ timeout: VM_MS });
        await page.screenshot({ path: path.join(SHOTS, `${p.name}-${mode}.png`) });
      }
    }

    step = 'revoke the agent with a reason: it turns revoked and stops';
    await page.goto(url('/agents'));
    await agentRow.getByText('ONLINE').waitFor();
    await agentRow.getByRole('button', { name: 'Revoke' }).click();
    await page.getByLabel('Reason').fill('e2e: machine retired');
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await agentRow.getByText('REVOKED').waitFor();
    assert.ok(await agent.until(() => agent.exited, VM_MS), `the agent kept running after revocation:\n${agent.out}`);
    await page.goto(url('/vms'));
    await page.getByText('No online agent.').waitFor();

    assert.deepEqual(consoleErrors, [], 'console errors');
  } catch (e) {
    if (page) await page.screenshot({ path: path.join(HERE, 'artifacts', 'vms-failure.png'), fullPage: true }).catch(() => {});
    e.message = `step "${step}": ${e.message}\n--- logs ---\n${procs.map((p) => p.out.slice(-3000)).join('\n---\n')}`;
    throw e;
  } finally {
    await browser?.close().catch(() => {});
    for (const p of procs.reverse()) await p.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
});
