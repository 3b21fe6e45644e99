// Browser test of the UI extras: creating a license and a proxy from the bot page, the
// account-generator presets with confirm and restore, the finance project filter, donut
// and per-project gold lines, the theme editor (palette, radius, saved themes) and the
// resource tree's state kept in the browser (never audited) — against `botmox --demo`, with no
// console errors and screenshots in both themes.
//
// Server: BOTMOX_BIN; browser: Debian's chromium (BOTMOX_E2E_CHROMIUM) via playwright-core.
// Waits are auto-waiting locators and polled API reads with deadlines; no fixed sleeps.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  answerConfirm,
  apiClient,
  collectConsoleErrors,
  eventually,
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

let server = null;
let browser = null;

before(async () => {
  if (skip) return;
  server = await startServer(process.env.BOTMOX_BIN, { args: ['--demo'], dataDirPrefix: 'botmox-e2e-extras-' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

/** The rows of a list answer (a plain array). */
const rows = (d) => (Array.isArray(d) ? d : (d?.items ?? []));

test('UI extras: bot-page create, account presets, finance filter, theme editor, tree state', { skip, timeout: 300_000 }, async () => {
  const { baseUrl } = server;
  const api = await apiClient(baseUrl);
  const { context, page } = await newPage(browser, { locale: 'en-US' });
  const consoleErrors = collectConsoleErrors(page);
  const toast = (text) => page.locator('.ant-message-notice').filter({ hasText: text }).last();
  const cssVar = (name) => page.evaluate((n) => document.documentElement.style.getPropertyValue(n), name);
  // Both themes of the page as it is, then back to dark for the steps after.
  const shootBoth = async (name, ready) => {
    await screenshotBothThemes(page, [{ name: `extras-${name}`, open: () => page.reload(), ready }]);
    await page.evaluate(() => localStorage.setItem('botmox.theme', 'dark'));
  };

  let step = 'sign in';
  try {
    await signIn(page, baseUrl);

    // ---- Resource tree state stays in the browser: a view preference, never audited ----
    step = 'tree state';
    const treeSettingsCalls = [];
    page.on('request', (r) => {
      if (r.url().includes('/settings/ui/resource_tree')) treeSettingsCalls.push(`${r.method()} ${r.url()}`);
    });
    const storedTree = () => page.evaluate(() => JSON.parse(localStorage.getItem('botmox.tree') ?? 'null'));
    await page.reload();
    await page.getByRole('button', { name: 'Bot filters' }).click();
    const chips = page.getByTestId('tree-filters');
    await chips.getByText('Banned', { exact: true }).click();
    await eventually('tree state stored', storedTree, (d) => d?.showFilters === true && !d.visible.includes('banned'));
    // Expanding and collapsing a branch is remembered the same way.
    const vmsNode = page.locator('.bm-tree .ant-tree-treenode').filter({ hasText: 'Workspace' }).first();
    const wasExpanded = (await storedTree()).expanded.length;
    await vmsNode.locator('.ant-tree-switcher').click();
    await eventually('expanded keys stored', storedTree, (d) => d.expanded.length !== wasExpanded);
    await page.reload();
    await chips.waitFor();
    assert.equal(await chips.locator('.ant-tag-checkable-checked').filter({ hasText: 'Banned' }).count(), 0, 'the filter survives a reload');
    await chips.getByText('Banned', { exact: true }).click();
    await page.getByRole('button', { name: 'Bot filters' }).click();
    await eventually('tree state restored', storedTree, (d) => d?.showFilters === false && d.visible.includes('banned'));
    assert.deepEqual(treeSettingsCalls, [], 'the tree never reads or writes the audited settings tree');
    const audit = await pageApi(page, 'GET', '/audit?limit=200');
    assert.equal(audit.status, 200);
    const treeRows = JSON.stringify(audit.body.data).match(/ui\/resource_tree/g) ?? [];
    assert.equal(treeRows.length, 0, 'no audit row for the tree');

    // ---- Bot page: create a license and a proxy bound to the bot ----------------------
    step = 'bot resources create';
    const bots = await api.get('/bots?limit=50');
    const bot = rows(bots).find((b) => b.status !== 'banned');
    await page.goto(new URL(`/bot/${bot.id}?tab=resources`, baseUrl).toString());
    await page.getByTestId('create-license').click();
    const ld = page.getByTestId('bot-license-dialog');
    await ld.getByLabel('License Key').fill('E2E-LIC-000111');
    await ld.getByLabel('Type').fill('E2E');
    await ld.getByRole('button', { name: 'Add License' }).click();
    await toast('License created and assigned').waitFor();
    await page.getByTestId('bot-license').getByText('E2E-LIC-000111').waitFor();
    const lic = rows(await api.get('/resources/licenses?limit=100')).find((l) => l.key === 'E2E-LIC-000111');
    assert.deepEqual(lic?.bot_ids, [bot.id]);
    await page.getByTestId('create-proxy').click();
    const pd = page.getByTestId('bot-proxy-dialog');
    await pd.getByLabel('Proxy String').fill('10.20.30.40:8080:e2e:secret');
    await pd.getByRole('button', { name: 'Add Proxy' }).click();
    await toast('Proxy created and assigned').waitFor();
    await page.getByTestId('bot-proxy').getByText('10.20.30.40:8080', { exact: false }).first().waitFor();
    const proxies = await api.get('/resources/proxies?limit=100');
    assert.equal(rows(proxies).find((p) => p.ip === '10.20.30.40')?.bot_id, bot.id);

    // Edit from the bot page; alerts for what expires soon; subscriptions needing attention.
    step = 'bot resources edit and alerts';
    const licBlock = page.getByTestId('bot-license').locator('.bm-res-block').filter({ hasText: 'E2E-LIC-000111' });
    await api.patch(`/resources/licenses/${lic.id}`, { expires_at: Date.now() + 2 * 86_400_000 - 60_000 });
    await api.post('/resources/subscriptions', { type: 'wow', status: 'active', bot_id: bot.id, expires_at: Date.now() + 86_400_000 });
    await page.reload();
    await licBlock.getByTestId('expiry-alert').getByText('License expires in 2 days').waitFor();
    await licBlock.getByTestId('expiry-alert').getByText('Action Required', { exact: false }).waitFor();
    await page.getByTestId('subs-attention').getByText('1 subscription requires attention').waitFor();
    await licBlock.getByTestId('edit-license').click();
    await ld.getByLabel('Type').fill('E2E-EDIT');
    await ld.getByRole('button', { name: 'Save' }).click();
    await toast('License updated').waitFor();
    await eventually('license edited, still bound', () => api.get(`/resources/licenses/${lic.id}`), (l) => l.type === 'E2E-EDIT' && l.bot_ids?.length === 1);
    const proxy = rows(proxies).find((p) => p.ip === '10.20.30.40');
    await page.getByTestId('bot-proxy').getByTestId('edit-proxy').click();
    assert.equal(await pd.getByLabel('Proxy String').inputValue(), '10.20.30.40:8080:e2e:secret');
    await pd.getByLabel('Proxy String').fill('10.20.30.41:8080:e2e:secret');
    await pd.getByRole('button', { name: 'Save' }).click();
    await toast('Proxy updated').waitFor();
    await eventually('proxy edited, still bound', () => api.get(`/resources/proxies/${proxy.id}`), (p) => p.ip === '10.20.30.41' && p.bot_id === bot.id);
    await page.getByTestId('bot-proxy').getByText('days remaining', { exact: false }).waitFor();
    await shootBoth('bot-resources', () => page.getByTestId('bot-proxy').getByText('10.20.30.41', { exact: false }).first().waitFor());

    // ---- Unassign: a license no other bot uses is deleted; a shared one only loses this bot ----
    step = 'license unassign';
    const other = rows(bots).find((b) => b.id !== bot.id);
    const shared = await api.post('/resources/licenses', { key: 'E2E-LIC-SHARED', type: 'E2E', status: 'active', expires_at: Date.now() + 10 * 86_400_000, bot_ids: [bot.id, other.id] });
    await page.reload();
    const licenseBlock = (key) => page.getByTestId('bot-license').locator('.bm-res-block').filter({ hasText: key });
    await licenseBlock('E2E-LIC-000111').getByTestId('unassign-license').click();
    await answerConfirm(page, 'Unassign', 'No other bot uses this license: unassigning deletes it from the database.');
    await toast('License unassigned and deleted').waitFor();
    await licenseBlock('E2E-LIC-000111').waitFor({ state: 'detached' });
    assert.ok(!rows(await api.get('/resources/licenses?limit=100')).some((l) => l.key === 'E2E-LIC-000111'), 'sole-bot license deleted');
    await licenseBlock('E2E-LIC-SHARED').getByTestId('unassign-license').click();
    await answerConfirm(page, 'Unassign', 'Other bots still use this license');
    await toast(/^Unassigned$/).waitFor();
    await licenseBlock('E2E-LIC-SHARED').waitFor({ state: 'detached' });
    assert.deepEqual((await api.get(`/resources/licenses/${shared.id}`)).bot_ids, [other.id], 'shared license keeps the other bot');

    // ---- Account generator: template, confirm before replacing, restore ---------------
    step = 'account generator';
    // The e-mail generator needs the person's names and birth date.
    await api.patch(`/bots/${bot.id}`, { person: { first_name: 'Emre', last_name: 'Kaya', birth_date: '05-06-1990' } });
    await page.goto(new URL(`/bot/${bot.id}?tab=configure&subtab=account`, baseUrl).toString());
    const form = page.getByTestId('form-account');
    const pw = form.getByLabel('Password', { exact: true });
    await pw.fill('Before-123');
    const tools = page.getByTestId('account-tools');
    // The presets sit behind Show/Hide.
    assert.equal(await tools.getByTestId('account-presets').count(), 0, 'presets hidden at first');
    await tools.getByRole('button', { name: 'Show', exact: true }).click();
    await tools.getByLabel('Template name').fill('E2E preset');
    await tools.getByRole('button', { name: 'Save Template' }).click();
    await toast('Template saved').waitFor();
    const presets = await api.get('/settings/generators/account/templates');
    assert.ok(Object.values(presets).some((p) => p?.name === 'E2E preset'), 'template stored');
    await page.getByTestId('generate-password').click();
    await answerConfirm(page, 'Generate', 'Confirm Generation');
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="form-account"] input[type="password"], [data-testid="form-account"] #password');
      return el && el.value && el.value !== 'Before-123';
    });
    assert.ok((await api.get('/settings/generators/account/lastSettings'))?.domain, 'last settings stored');
    await tools.getByRole('button', { name: 'Restore Previous' }).click();
    await toast('Previous values restored').waitFor();
    assert.equal(await pw.inputValue(), 'Before-123');
    await tools.getByRole('button', { name: 'Hide', exact: true }).click();
    await tools.getByTestId('account-presets').waitFor({ state: 'detached' });
    // "Custom..." e-mail domain: a text box, checked before use; "Back" returns to the list.
    await tools.getByLabel('Email Domain').first().click();
    await page.locator('.ant-select-dropdown:visible').getByText('Custom...', { exact: true }).click();
    const custom = tools.getByLabel('Custom domain');
    await custom.fill('not a domain');
    const email = form.getByLabel('Email', { exact: true });
    await email.fill('');
    await tools.getByRole('button', { name: 'Email', exact: true }).click();
    await toast('Enter an e-mail domain like example.com').waitFor();
    assert.equal(await email.inputValue(), '', 'no e-mail from a bad domain');
    await custom.fill('e2e-mail.test');
    await tools.getByRole('button', { name: 'Email', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="form-account"] #email')?.value.endsWith('@e2e-mail.test'));
    assert.match(await email.inputValue(), /^(emre|kaya)[_-]?(kaya|emre)\d{2}@e2e-mail\.test$/);
    await eventually('custom domain remembered', () => api.get('/settings/generators/account/lastSettings'), (d) => d?.domain === 'e2e-mail.test');
    await tools.getByRole('button', { name: 'Back', exact: true }).click();
    await tools.getByLabel('Email Domain').first().waitFor();
    assert.equal(await custom.count(), 0, 'custom box gone');
    // "Set Current Date/Time" fills the registration date with now.
    const registered = form.getByLabel('Registration Date');
    await registered.fill('');
    await form.getByRole('button', { name: 'Set Current Date/Time' }).click();
    const stamp = await registered.inputValue();
    assert.match(stamp, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    assert.ok(Math.abs(new Date(stamp.replace(' ', 'T')).getTime() - Date.now()) < 5 * 60_000, `registration date ${stamp} is now`);
    await form.getByRole('button', { name: 'Save Changes' }).click();
    await toast('Account data saved and locked').waitFor();
    await form.getByText('Account data is locked. Click Unlock to edit.').waitFor();
    // The summary's account card: the provider is the e-mail's domain.
    await page.goto(new URL(`/bot/${bot.id}`, baseUrl).toString());
    await page.locator('.ant-descriptions-row').filter({ hasText: 'Provider' }).getByText('e2e-mail.test', { exact: true }).waitFor();

    // ---- Schedule: generator template round trip, drag to create and resize, save -----
    step = 'schedule templates';
    await page.goto(new URL(`/bot/${bot.id}?tab=configure&subtab=schedule`, baseUrl).toString());
    const sched = page.getByTestId('schedule-editor');
    await sched.waitFor();
    const unlock = page.locator('.ant-collapse-item-active').getByRole('button', { name: 'Unlock' });
    if (await unlock.count()) await unlock.click();
    await sched.getByRole('button', { name: /Generate/ }).and(page.locator(':enabled')).waitFor();
    await sched.getByRole('button', { name: /Generate/ }).click();
    const gen = page.getByTestId('schedule-generator');
    await gen.getByText('Second Window (e.g. night sessions)').click();
    await gen.getByLabel('Template name').fill('E2E schedule');
    await gen.getByRole('button', { name: 'Save' }).click();
    await toast('Template saved').waitFor();
    const tpls = await api.get('/settings/schedule/templates');
    const [tplId, tpl] = Object.entries(tpls).find(([, v]) => v?.name === 'E2E schedule');
    assert.equal(tpl.params.useSecondWindow, true, 'template keeps the second window');
    await gen.getByRole('tab', { name: 'Templates (1)' }).click();
    await gen.getByTestId('schedule-template').filter({ hasText: 'E2E schedule' }).getByRole('button', { name: 'Apply' }).click();
    await gen.waitFor({ state: 'hidden' });
    await sched.locator('.bm-sched-week .bm-sched-bar').first().waitFor();
    await sched.getByRole('button', { name: /Generate/ }).click();
    await gen.getByRole('tab', { name: 'Templates (1)' }).click();
    await gen.getByRole('button', { name: 'Delete E2E schedule' }).click();
    await toast('Template deleted').waitFor();
    await gen.getByRole('tab', { name: 'Templates (0)' }).waitFor();
    assert.equal((await api.get('/settings/schedule/templates'))[tplId], undefined, 'template deleted');
    await page.keyboard.press('Escape');

    step = 'schedule drag';
    await sched.getByText('Day View', { exact: true }).click();
    await sched.getByRole('tab', { name: 'Wed' }).click();
    const sessionRows = sched.getByTestId('schedule-session');
    while (await sessionRows.count()) await sessionRows.first().getByRole('button', { name: 'Delete' }).click();
    await sched.getByText('No sessions for this day').waitFor();
    const line = sched.getByTestId('schedule-day-timeline');
    const box = await line.boundingBox();
    const at = (min) => box.x + (box.width * min) / 1440;
    const midY = box.y + box.height / 2;
    const drag = async (from, to) => {
      await page.mouse.move(from, midY);
      await page.mouse.down();
      await page.mouse.move((from + to) / 2, midY, { steps: 4 });
      await page.mouse.move(to, midY, { steps: 4 });
      await page.mouse.up();
    };
    await drag(at(600), at(720));
    assert.equal(await sessionRows.count(), 1, 'drag created one session');
    const span = (i) => sessionRows.nth(i).getByTestId('session-span');
    assert.equal(await span(0).textContent(), '10:00 - 12:00');
    // Its right edge is the end handle: drag it to 13:00.
    const handle = await line.locator('.bm-sched-handle.is-end').boundingBox();
    await drag(handle.x + handle.width / 2, at(780));
    assert.equal(await span(0).textContent(), '10:00 - 13:00');
    // A second session 14:00-15:00, then moved by its bar onto the first: an error that blocks Save.
    await drag(at(840), at(900));
    assert.equal(await span(1).textContent(), '14:00 - 15:00');
    const save = sched.getByRole('button', { name: 'Save Changes' });
    assert.ok(await save.isEnabled(), 'save enabled while the sessions are fine');
    const second = await line.locator('.bm-sched-bar').nth(1).boundingBox();
    await drag(second.x + second.width / 2, second.x + second.width / 2 - (box.width * 120) / 1440);
    assert.equal(await span(1).textContent(), '12:00 - 13:00');
    await sched.getByTestId('schedule-problems').getByText('Overlapping or too short sessions on Wednesday', { exact: false }).waitFor();
    await sessionRows.nth(1).getByText('This session overlaps with an existing session').waitFor();
    assert.ok(await save.isDisabled(), 'save disabled while sessions overlap');
    // The session dialog refuses an overlap and a too short session next to End, then takes a good one.
    await sessionRows.nth(1).getByRole('button', { name: 'Edit' }).click();
    const sdlg = page.getByTestId('session-dialog');
    await sdlg.getByLabel('Start').fill('12:00');
    await sdlg.getByLabel('End').fill('13:30');
    await sdlg.getByRole('button', { name: 'Save' }).click();
    await sdlg.getByText('This session overlaps with an existing session').waitFor();
    await sdlg.getByLabel('Start').fill('14:00');
    await sdlg.getByLabel('End').fill('14:10');
    await sdlg.getByRole('button', { name: 'Save' }).click();
    await sdlg.getByText('Session must be at least 15 minutes long').waitFor();
    await sdlg.getByLabel('End').fill('15:30');
    await sdlg.getByRole('switch', { name: 'Enabled' }).click();
    await sdlg.getByRole('button', { name: 'Save' }).click();
    await sdlg.waitFor({ state: 'hidden' });
    assert.equal(await span(1).textContent(), '14:00 - 15:30');
    assert.equal(await sessionRows.nth(1).getByRole('switch', { name: 'Enabled' }).getAttribute('aria-checked'), 'false');
    await sched.getByTestId('schedule-problems').waitFor({ state: 'hidden' });
    // "Add Session" opens the same dialog.
    await sched.getByRole('button', { name: 'Add Session' }).click();
    await sdlg.getByLabel('Start').fill('20:00');
    await sdlg.getByLabel('End').fill('21:00');
    await sdlg.getByRole('button', { name: 'Add Session' }).click();
    await sdlg.waitFor({ state: 'hidden' });
    assert.equal(await span(2).textContent(), '20:00 - 21:00');
    // The whole day switched off.
    await sched.getByRole('switch', { name: 'Wednesday enabled' }).click();
    await sched.getByText('Day off: the bot runs no session on this day').waitFor();
    await save.click();
    await toast('Schedule saved successfully').waitFor();
    const saved = (await api.get(`/bots/${bot.id}`)).schedule;
    assert.deepEqual(
      saved.days['2'].sessions.map((x) => [x.start, x.end, x.enabled]),
      [
        ['10:00', '13:00', true],
        ['14:00', '15:30', false],
        ['20:00', '21:00', true],
      ],
    );
    assert.equal(saved.days['2'].enabled, false, 'day switched off');
    assert.equal(saved.allowedWindows.length, 2, 'both generator windows stored');
    await page.reload();
    // The week overview marks the day off.
    await sched.locator('.bm-sched-row').filter({ hasText: 'Wednesday' }).getByText('Off', { exact: true }).waitFor();
    await sched.getByText('Day View', { exact: true }).click();
    await sched.getByRole('tab', { name: 'Wed' }).click();
    assert.equal(await span(0).textContent(), '10:00 - 13:00');
    assert.equal(await sched.getByRole('switch', { name: 'Wednesday enabled' }).getAttribute('aria-checked'), 'false');
    await sched.getByTestId('schedule-week-stats').getByText('Avg Sessions').waitFor();
    await shootBoth('bot-schedule', async () => {
      await sched.getByText('Day View', { exact: true }).click();
      await line.locator('.bm-sched-bar').first().waitFor();
    });

    // ---- Finance: project filter, donut, gold price per project -----------------------
    step = 'finance';
    await page.goto(new URL('/finance', baseUrl).toString());
    await page.getByTestId('fin-donut').locator('circle').nth(1).waitFor();
    // One overview chart: income, expense, cumulative profit, gold price on the right axis; daily net hidden.
    const chart = page.getByTestId('fin-chart');
    await chart.locator('polyline[data-series^="gold:"]').first().waitFor();
    for (const key of ['income', 'expense', 'profit']) assert.equal(await chart.locator(`polyline[data-series="${key}"]`).count(), 1, `${key} line`);
    assert.equal(await chart.locator('[data-series="net"]').count(), 0, 'daily net hidden by default');
    await page.getByTestId('fin-gold-sold').getByText('/1000g', { exact: false }).first().waitFor();
    // Gold Sold: the total of the sales in the period (the last 30 days, today included) and
    // its mean price per 1000 g.
    const periodStart = new Date(new Date().setHours(0, 0, 0, 0) - 29 * 86_400_000).setHours(0, 0, 0, 0);
    const sales = rows(await api.get('/finance/operations?limit=200')).filter(
      (o) => o.type === 'income' && o.category === 'sale' && o.gold_amount > 0 && o.date >= periodStart,
    );
    const soldGold = sales.reduce((n, o) => n + o.gold_amount, 0);
    const prices = sales.map((o) => o.gold_price_at_time).filter((p) => typeof p === 'number');
    const total = page.getByTestId('fin-gold-total');
    assert.equal((await total.locator('span').textContent()).replace(/\s/g, ''), `${soldGold}g`);
    const avg = `$${(prices.reduce((a, b) => a + b, 0) / prices.length).toFixed(4)}/1000g`;
    assert.equal(await total.locator('small').textContent(), `Avg price ${avg}`);
    // The Overview's finance card says the same for the same 30 days.
    await page.goto(new URL('/', baseUrl).toString());
    await page.getByTestId('map-finance').getByText(avg, { exact: false }).waitFor();
    // Its USD income and expenses are the server's daily stats over the same 30 (UTC) days.
    const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);
    const stats = Object.values(await api.get(`/finance/daily-stats?from=${utcDay(Date.now() - 29 * 86_400_000)}&to=${utcDay(Date.now())}`));
    const usd = (n) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    const chip = (label) => page.getByTestId('map-finance').locator('.bm-map-chip').filter({ hasText: label }).locator('.bm-map-chip-value');
    const revenue = stats.reduce((n, d) => n + d.total_revenue, 0);
    assert.ok(revenue > 0, 'demo data has USD income in the last 30 days');
    assert.equal(await chip('Income').textContent(), usd(revenue));
    assert.equal(await chip('Expenses').textContent(), usd(stats.reduce((n, d) => n + d.total_expenses, 0)));
    await page.goBack();
    // Axis dates in the browser's locale (en-US here: "Nov 3").
    const firstDay = await chart.locator('text[data-axis="x"]').first().textContent();
    assert.match(firstDay, /^[A-Z][a-z]{2} \d{1,2}$/, `axis date ${firstDay}`);
    const projects = await api.get('/settings/projects');
    // A project with operations in the demo period: the first one any operation names.
    const ops = rows(await api.get('/finance/operations?limit=100'));
    const pid = ops.find((o) => o.project_id && projects[o.project_id])?.project_id;
    const pinfo = projects[pid];
    await page.getByTestId('fin-project').click();
    await page.locator('.ant-select-dropdown:visible').getByText(pinfo.name ?? pid, { exact: true }).click();
    // The operations are on the Transactions tab; the toolbar's project narrows both tabs.
    await page.getByRole('tab', { name: 'Transactions' }).click();
    await page.getByTestId('fin-table').locator('tbody tr.ant-table-row').first().waitFor();
    await page.waitForFunction(
      (name) => {
        const cells = [...document.querySelectorAll('[data-testid="fin-table"] tbody tr.ant-table-row td:nth-child(4)')];
        return cells.length > 0 && cells.every((c) => c.textContent === name);
      },
      pinfo.name ?? pid,
    );
    await page.getByRole('tab', { name: 'Summary' }).click();
    await page.waitForURL((u) => u.searchParams.get('tab') === 'summary');
    assert.equal(await chart.locator('polyline[data-series^="gold:"]').count(), 1, 'one project, one gold line');
    await shootBoth('finance', () => page.getByTestId('fin-donut').locator('circle').nth(1).waitFor());

    // ---- Theme editor: color, radius, save, saved themes ----------------------------
    step = 'theme editor';
    await page.goto(new URL('/settings', baseUrl).toString());
    await page.getByRole('button', { name: 'Open Theme Editor' }).click();
    const editor = page.locator('.ant-drawer').filter({ hasText: 'Theme Editor' });
    await editor.getByText('Dark Theme', { exact: true }).click();
    await editor.getByLabel('Brand primary hex').fill('#cc3366');
    await page.waitForFunction(() => document.documentElement.style.getPropertyValue('--bm-primary') === '#cc3366');
    await editor.getByLabel('Radius medium').fill('8');
    await page.waitForFunction(() => document.documentElement.style.getPropertyValue('--bm-radius-md') === '8px');
    await editor.getByLabel('New theme name').fill('E2E theme');
    await editor.getByRole('button', { name: 'Save As Theme' }).click();
    await toast('Theme "E2E theme" saved').waitFor();
    await editor.getByRole('button', { name: 'save Save', exact: true }).click();
    await toast('Theme colors saved').waitFor();
    let theme = await api.get('/settings/theme');
    assert.equal(theme.palettes.dark.brandPrimary, '#cc3366');
    assert.equal(theme.shape.radiusMd, 8);
    // Reset, save; then apply the saved theme from the card.
    await page.getByRole('button', { name: 'Open Theme Editor' }).click();
    await editor.getByText('Dark Theme', { exact: true }).click();
    await editor.getByRole('button', { name: 'Reset Selected Theme' }).click();
    await page.waitForFunction(() => document.documentElement.style.getPropertyValue('--bm-primary') === '#8cc0f5');
    // The first save's toast reads the same: gone first, so the wait below is for this save.
    await toast('Theme colors saved').waitFor({ state: 'detached' });
    await editor.getByRole('button', { name: 'save Save', exact: true }).click();
    await toast('Theme colors saved').waitFor();
    const card = page.getByTestId('settings-theme-colors');
    await card.getByLabel('Select saved theme').first().click();
    await page.locator('.ant-select-dropdown:visible').getByText('E2E theme', { exact: true }).click();
    await card.getByRole('button', { name: 'Apply' }).click();
    await toast('Theme applied').waitFor();
    assert.equal(await cssVar('--bm-primary'), '#cc3366');
    theme = await api.get('/settings/theme');
    assert.equal(theme.palettes.dark.brandPrimary, '#cc3366');
    // Light mode uses its own palette.
    await page.getByRole('switch', { name: 'Dark theme' }).click();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'light');
    assert.equal(await cssVar('--bm-primary'), '#2f6da6');
    await page.getByRole('switch', { name: 'Dark theme' }).click();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'dark');
    // Delete the saved theme.
    await page.getByRole('button', { name: 'Open Theme Editor' }).click();
    await editor.getByLabel('Select saved theme').first().click();
    await page.locator('.ant-select-dropdown:visible').getByText('E2E theme', { exact: true }).click();
    await editor.getByRole('button', { name: 'Delete' }).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Delete' }).click();
    await toast('Theme deleted').waitFor();
    theme = await api.get('/settings/theme');
    assert.ok(!Object.values(theme.presets ?? {}).some((p) => p?.name === 'E2E theme'), 'preset deleted');
    await shootBoth('theme-editor', async () => {
      await page.getByRole('button', { name: 'Open Theme Editor' }).click();
      await editor.getByTestId('theme-token-brandPrimary').waitFor();
    });

    consoleErrors.assertClean();
  } catch (e) {
    await explainFailure(e, page, 'ui-extras', [`step: ${step}`, consoleErrors.report(), `--- server log (tail) ---\n${server.log().slice(-4000)}`]);
    throw e;
  } finally {
    await context.close();
  }
});
