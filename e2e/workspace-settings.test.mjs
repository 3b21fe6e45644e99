// Browser test of Notes, Calendar, Kanban, Finance, Settings, Account and the audit log against
// a real server started with --demo (sample data, user demo@botmox.local).
//
// Server: BOTMOX_BIN=/path/to/botmox (spawned as `botmox serve --listen 127.0.0.1:0
// --data-dir <tmp> --demo`), or BOTMOX_E2E_DEMO_URL = the base URL of a running --demo server
// (its data is changed by the test).
// Browser: Debian's chromium (BOTMOX_E2E_CHROMIUM, default /usr/bin/chromium) through
// playwright-core; nothing is downloaded.
//
// Every page: real data from the API shows, its main create/edit/delete flow runs end to end,
// no console errors; screenshots of every page in both themes go to e2e/screenshots/.
// Waits are Playwright's auto-waiting locators with deadlines; no fixed sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  answerConfirm,
  collectConsoleErrors,
  DEMO_USER,
  explainFailure,
  launchBrowser,
  newPage,
  noChromium,
  pageApi,
  pageApiOk,
  screenshotBothThemes,
  signIn,
  startServer,
} from './support.mjs';

/** A 320×180 gradient PNG, written without image libraries. */
function pngFile(file) {
  const w = 320;
  const h = 180;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = 220;
      raw[o + 1] = Math.floor((x / w) * 255);
      raw[o + 2] = Math.floor((y / h) * 255);
    }
  }
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      chunk('IHDR', ihdr),
      chunk('IDAT', zlib.deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

const source = process.env.BOTMOX_BIN
  ? { bin: process.env.BOTMOX_BIN }
  : process.env.BOTMOX_E2E_DEMO_URL
    ? { baseUrl: process.env.BOTMOX_E2E_DEMO_URL.replace(/\/+$/, '') }
    : null;
const skip = !source ? 'set BOTMOX_BIN (server binary) or BOTMOX_E2E_DEMO_URL (a running --demo server)' : noChromium();

const PAGES = [
  { name: 'notes', path: '/notes', ready: (p) => p.getByTestId('note-card').first() },
  { name: 'calendar', path: '/workspace/calendar', ready: (p) => p.getByTestId('calendar-event').first() },
  { name: 'kanban', path: '/workspace/kanban', ready: (p) => p.getByTestId('kanban-card').first() },
  { name: 'finance', path: '/finance?tab=transactions', ready: (p) => p.getByTestId('fin-table').locator('tbody tr.ant-table-row').first() },
  { name: 'settings', path: '/settings', ready: (p) => p.getByTestId('settings-proxy').getByRole('spinbutton').first() },
  { name: 'account', path: '/account', ready: (p) => p.getByTestId('sessions-table').locator('tbody tr.ant-table-row').first() },
  { name: 'audit', path: '/audit', ready: (p) => p.getByTestId('audit-table').locator('tbody tr.ant-table-row').first() },
];

test('workspace, finance, settings, account and audit pages', { skip, timeout: 300_000 }, async (t) => {
  const server = source.bin ? await startServer(source.bin, { args: ['--demo'], dataDirPrefix: 'botmox-e2e-ws-' }) : null;
  const baseUrl = server?.baseUrl ?? source.baseUrl;
  t.diagnostic(`server ${baseUrl}`);

  const browser = await launchBrowser();
  const { page } = await newPage(browser);
  const consoleErrors = collectConsoleErrors(page);

  const url = (p) => new URL(p, baseUrl).toString();
  const onPath = (p) => (u) => u.pathname === p;
  const toast = (text) => page.locator('.ant-message').getByText(text).first();
  const dialog = (testId) => page.getByTestId(testId);
  /** Opens the antd select whose input is named `name`. */
  const openSelect = (scope, name) =>
    scope.locator('.ant-select').filter({ has: page.getByRole('combobox', { name }) }).click();
  /** An option of the open antd select. */
  const pick = (text) =>
    page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)').getByText(text, { exact: true }).click();
  /** The confirmation modal of a delete, then the toast's Undo when asked for. */
  const confirmDelete = () => answerConfirm(page, 'Delete');
  /** The API as the signed-in browser sees it. */
  const apiGet = (p) => pageApiOk(page, 'GET', p);

  let step = 'start';
  try {
    step = 'sign in as the demo user';
    await signIn(page, baseUrl);

    // ---- Notes ------------------------------------------------------------------------
    step = 'notes: demo notes, pinned first';
    await page.goto(url('/notes'));
    const cards = page.getByTestId('note-card');
    await cards.filter({ hasText: 'Farming routes' }).waitFor();
    assert.match((await cards.first().textContent()) ?? '', /Farming routes/, 'the pinned demo note comes first');
    await page.getByTestId('notes-count').filter({ hasText: '5 notes' }).waitFor();

    step = 'notes: search';
    await page.getByPlaceholder('Search notes...').fill('proxy providers');
    await page.getByTestId('notes-count').filter({ hasText: '1 note' }).waitFor();
    await page.getByPlaceholder('Search notes...').fill('');
    await page.getByTestId('notes-count').filter({ hasText: '5 notes' }).waitFor();

    step = 'notes: create, write Markdown, autosave';
    await page.getByRole('button', { name: 'New note' }).click();
    await page.waitForURL((u) => u.pathname === '/notes' && u.searchParams.has('note'));
    const title = page.getByLabel('Note title');
    await title.waitFor();
    assert.equal(await title.inputValue(), 'New Note');
    await title.fill('E2E note');
    await page
      .getByLabel('Start writing your note in Markdown...')
      .fill('# Heading\n\nSome **bold** text and <img src=x onerror=alert(1)> raw HTML\n\n- [x] done item');
    await page.getByTestId('note-save-state').filter({ hasText: 'Saved' }).waitFor();
    const preview = page.getByTestId('note-preview');
    await preview.locator('h1', { hasText: 'Heading' }).waitFor();
    await preview.locator('strong', { hasText: 'bold' }).waitFor();
    assert.equal(await preview.locator('img').count(), 0, 'raw HTML in a note is text, not markup');
    await preview.getByText('<img src=x onerror=alert(1)>', { exact: false }).waitFor();
    await cards.filter({ hasText: 'E2E note' }).waitFor();
    await page.getByTestId('notes-count').filter({ hasText: '6 notes' }).waitFor();

    step = 'notes: the note survives a reload';
    await page.reload();
    await page.getByLabel('Note title').waitFor();
    assert.equal(await page.getByLabel('Note title').inputValue(), 'E2E note');

    step = 'notes: delete asks first, then undo brings it back';
    await page.locator('.bm-note-toolbar').getByRole('button', { name: 'Delete' }).click();
    await confirmDelete();
    await page.getByText('Select a note from the sidebar').waitFor();
    await cards.filter({ hasText: 'E2E note' }).waitFor({ state: 'detached' });
    await page.locator('.ant-message').getByRole('button', { name: 'Undo' }).click();
    await toast(/restored/).waitFor();
    await cards.filter({ hasText: 'E2E note' }).waitFor();

    // ---- Calendar ---------------------------------------------------------------------
    step = 'calendar: demo events';
    await page.goto(url('/workspace/calendar'));
    const events = page.getByTestId('calendar-event');
    await events.filter({ hasText: 'Renew proxies' }).first().waitFor();
    await page.getByTestId('calendar-panel').getByText(/Missed \(\d+\)/).waitFor();
    await page.getByTestId('calendar-panel').getByText(/Upcoming \(\d+\)/).waitFor();

    step = 'calendar: the title is required';
    await page.getByRole('button', { name: 'Add event' }).click();
    const eventDialog = dialog('event-dialog');
    await eventDialog.getByRole('button', { name: 'Save' }).click();
    await eventDialog.locator('.ant-form-item-explain-error', { hasText: 'Title is required' }).waitFor();

    step = 'calendar: create an event';
    await eventDialog.getByLabel('Title').fill('E2E event');
    await eventDialog.getByLabel('Description').fill('made by the browser test');
    await eventDialog.getByRole('button', { name: 'Save' }).click();
    await toast('Event created').waitFor();
    const mine = events.filter({ hasText: 'E2E event' });
    await mine.waitFor();

    step = 'calendar: edit it';
    await mine.getByRole('button', { name: /^Edit/ }).click();
    await eventDialog.getByLabel('Title').fill('E2E event edited');
    await eventDialog.getByRole('button', { name: 'Save' }).click();
    await toast('Event updated').waitFor();
    await events.filter({ hasText: 'E2E event edited' }).waitFor();

    step = 'calendar: week view, then delete the event';
    await page.getByText('Week', { exact: true }).click();
    await page.getByTestId('calendar-title').filter({ hasText: / - / }).waitFor();
    await page.getByText('Month', { exact: true }).click();
    await events.filter({ hasText: 'E2E event edited' }).getByRole('button', { name: /^Delete/ }).click();
    await confirmDelete();
    await events.filter({ hasText: 'E2E event edited' }).waitFor({ state: 'detached' });

    // ---- Kanban -----------------------------------------------------------------------
    step = 'kanban: demo tasks in three columns';
    await page.goto(url('/workspace/kanban'));
    const col = (c) => page.getByTestId(`kanban-col-${c}`);
    await col('todo').getByText('Plan next project').waitFor();
    const doneBefore = Number(await page.getByTestId('kanban-count-done').textContent());

    step = 'kanban: drag a card from Todo to Done';
    await page.dragAndDrop('[data-task-id="kanban-demo-9"]', '[data-testid="kanban-col-done"] .bm-kcol-body');
    await col('done').getByText('Plan next project').waitFor();
    await page.getByTestId('kanban-count-done').filter({ hasText: String(doneBefore + 1) }).waitFor();

    step = 'kanban: the move survives a reload';
    await page.waitForLoadState('networkidle');
    await page.reload();
    await col('done').getByText('Plan next project').waitFor();
    assert.equal(await col('todo').getByText('Plan next project').count(), 0);

    step = 'kanban: keyboard move back to the previous column';
    await col('done').getByRole('button', { name: 'Move to the previous column: Plan next project' }).click();
    await col('in_progress').getByText('Plan next project').waitFor();

    step = 'kanban: create, edit and delete a task';
    await col('todo').getByRole('button', { name: /^(plus )?New$/ }).click();
    const taskDialog = dialog('task-dialog');
    await taskDialog.getByLabel('Title').fill('E2E task');
    await taskDialog.getByRole('button', { name: 'Save' }).click();
    await toast('Task created').waitFor();
    await col('todo').getByText('E2E task').waitFor();
    await col('todo').getByRole('button', { name: 'Edit: E2E task' }).click();
    await taskDialog.getByLabel('Title').fill('E2E task edited');
    await taskDialog.getByRole('button', { name: 'Save' }).click();
    await col('todo').getByText('E2E task edited').waitFor();
    await col('todo').getByRole('button', { name: 'Delete: E2E task edited' }).click();
    await confirmDelete();
    await col('todo').getByText('E2E task edited').waitFor({ state: 'detached' });

    // ---- Finance ----------------------------------------------------------------------
    step = 'finance: totals per currency, charts, operations';
    await page.goto(url('/finance'));
    await page.getByTestId('fin-income-USD').filter({ hasText: /\$\d/ }).waitFor();
    await page.getByTestId('fin-net-gold').filter({ hasText: / g$/ }).waitFor();
    // The one overview chart: income and expense lines, gold price on its right-hand axis.
    await page.getByTestId('fin-chart').locator('polyline[data-series="income"]').waitFor();
    await page.getByTestId('fin-chart').locator('polyline[data-series^="gold:"]').first().waitFor();
    // Summary and Transactions are tabs (web-ui.md §2.12); the operations are on the second.
    await page.getByRole('tab', { name: 'Transactions' }).click();
    await page.waitForURL((u) => u.searchParams.get('tab') === 'transactions');
    const table = page.getByTestId('fin-table');
    await table.getByText('Gold sale').first().waitFor();
    await table.getByText(/Total \d+ operations/).waitFor();

    step = 'finance: server-side search and a type filter';
    const search = page.getByPlaceholder('Search description, category, amount…');
    await search.fill('Weekly proxy bundle');
    await page.waitForURL((u) => u.searchParams.get('q') === 'Weekly proxy bundle');
    await table.getByText('Gold sale').first().waitFor({ state: 'detached' });
    await table.locator('tbody tr.ant-table-row').first().filter({ hasText: 'Weekly proxy bundle' }).waitFor();
    await page.getByRole('button', { name: 'Reset' }).click();
    await openSelect(page, 'Type');
    await pick('Expense');
    await page.waitForURL((u) => u.searchParams.get('type') === 'expense');
    // Only expenses: the income rows (gold sales) go away.
    await table.getByText('Gold sale').first().waitFor({ state: 'detached' });
    await table.locator('tbody tr.ant-table-row').first().filter({ hasText: 'Expense' }).waitFor();
    await page.getByRole('button', { name: 'Reset' }).click();

    step = 'finance: add an operation (amount required, then given)';
    await page.getByRole('button', { name: 'Add operation' }).click();
    const opDialog = dialog('operation-dialog');
    await opDialog.getByRole('button', { name: 'Save' }).click();
    await opDialog.locator('.ant-form-item-explain-error', { hasText: 'Category is required' }).waitFor();
    await opDialog.locator('.ant-form-item-explain-error', { hasText: 'Amount is required' }).waitFor();
    await openSelect(opDialog, 'Category');
    await pick('Proxy');
    await opDialog.getByLabel('Amount').fill('12.34');
    await opDialog.getByLabel('Description').fill('E2E operation');
    await opDialog.getByRole('button', { name: 'Save' }).click();
    await toast('Operation added').waitFor();
    await search.fill('E2E operation');
    const opRow = table.locator('tbody tr.ant-table-row').filter({ hasText: 'E2E operation' });
    await opRow.filter({ hasText: '−$12.34' }).waitFor();

    step = 'finance: edit the operation';
    await opRow.getByRole('button', { name: 'Edit', exact: true }).click();
    await opDialog.getByLabel('Amount').fill('20');
    await opDialog.getByRole('button', { name: 'Save' }).click();
    await toast('Operation updated').waitFor();
    await opRow.filter({ hasText: '−$20.00' }).waitFor();

    step = 'finance: delete it';
    await opRow.getByRole('button', { name: 'Delete', exact: true }).click();
    await confirmDelete();
    await table.getByText('No operations found').or(table.getByText('Nothing matches')).first().waitFor();

    // ---- Settings ---------------------------------------------------------------------
    step = 'settings: stored documents show';
    await page.goto(url('/settings'));
    const alerts = page.getByTestId('settings-alerts');
    await alerts.getByRole('spinbutton').and(page.locator(':enabled')).waitFor();
    assert.equal(await alerts.getByRole('spinbutton').inputValue(), '7');

    step = 'settings: projects are listed with their details';
    assert.equal((await pageApi(page, 'PUT', '/settings/projects/wow_tbc/professions', ['Mining', 'Herbalism'])).status, 200);
    await page.reload();
    const tbcRow = page.getByTestId('projects-table').locator('.ant-table-row').filter({ hasText: 'wow_tbc' });
    await tbcRow.getByText('Mining, Herbalism').waitFor();
    await tbcRow.getByText('The Burning Crusade').waitFor();

    step = 'settings: a value out of range is refused next to the field';
    await alerts.getByRole('spinbutton').fill('500');
    await alerts.getByRole('button', { name: 'Save Alerts' }).click();
    await alerts.locator('.ant-form-item-explain-error', { hasText: 'From 1 to 90' }).waitFor();
    await alerts.getByRole('spinbutton').fill('10');
    await alerts.getByRole('button', { name: 'Save Alerts' }).click();
    await toast('Global alert settings saved').waitFor();

    step = 'settings: the IPQS key goes to the vault and is never shown back';
    const ipqs = page.getByTestId('settings-ipqs');
    await ipqs.getByTestId('secret-state').filter({ hasText: 'not set' }).waitFor();
    await ipqs.getByLabel('API Key').fill('e2e-secret-key-123');
    await ipqs.getByRole('button', { name: 'Save IPQS' }).click();
    await toast('API keys saved').waitFor();
    await ipqs.getByTestId('secret-state').filter({ hasText: /^set$/ }).waitFor();
    const keys = await apiGet('/settings/api_keys');
    assert.equal(keys.data.ipqs.api_key, '********');
    await page.reload();
    await ipqs.getByTestId('secret-state').filter({ hasText: /^set$/ }).waitFor();
    assert.equal(await ipqs.getByLabel('API Key').inputValue(), '');
    assert.ok(!(await page.content()).includes('e2e-secret-key-123'), 'the secret is not in the page');
    assert.equal(await page.getByTestId('settings-alerts').getByRole('spinbutton').inputValue(), '10');

    step = 'settings: theme switch';
    const theme = () => page.evaluate(() => document.documentElement.getAttribute('data-theme'));
    assert.equal(await theme(), 'dark');
    await page.getByRole('switch', { name: 'Dark theme' }).click();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'light');
    await page.getByTestId('settings-theme-colors').getByText('Dark', { exact: true }).click();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'dark');

    step = 'settings: upload a background image and apply it';
    const png = path.join(mkdtempSync(path.join(tmpdir(), 'botmox-e2e-png-')), 'e2e-background.png');
    pngFile(png);
    // The visual background lives in the theme editor, with a preview of the chosen image.
    await page.getByRole('button', { name: 'Open Theme Editor' }).click();
    const themeCard = page.getByTestId('settings-background');
    await themeCard.getByText('No uploaded backgrounds').waitFor();
    const bgPreview = themeCard.getByTestId('background-preview');
    await bgPreview.getByText('No background', { exact: false }).waitFor();
    await page.getByTestId('background-file').setInputFiles(png);
    await toast('Image uploaded').waitFor();
    const asset = themeCard.getByTestId('background-asset').filter({ hasText: 'e2e-background.png' });
    await asset.getByText('320×180').waitFor();
    await asset.getByRole('button', { name: 'Selected' }).waitFor();
    // The preview shows the selected image under the overlay of the current mode, before saving.
    await bgPreview.locator('.bm-set-preview-image').waitFor();
    assert.match(await bgPreview.locator('.bm-set-preview-image').evaluate((el) => el.style.backgroundImage), /\/api\/v1\/theme-assets\/files\//);
    await themeCard.getByLabel('Overlay color (dark)').evaluate((el) => {
      // A color input takes its value from a picker; set it the way the picker does.
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
      set.call(el, '#112233');
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForFunction(() => getComputedStyle(document.querySelector('.bm-set-preview-overlay')).backgroundColor === 'rgb(17, 34, 51)');
    await themeCard.getByRole('button', { name: 'Save background' }).click();
    await toast('Visual theme settings saved').waitFor();
    assert.equal((await apiGet('/settings/theme')).data.visual.overlayColorDark, '#112233');
    await page.keyboard.press('Escape');
    const bg = page.getByTestId('theme-background');
    await bg.waitFor();
    const bgImage = () => bg.locator('.bm-bg-image').evaluate((el) => getComputedStyle(el).backgroundImage);
    assert.match(await bgImage(), /\/api\/v1\/theme-assets\/files\//);
    // The image really loads from its signed URL.
    const loaded = await page.evaluate(async () => {
      const el = document.querySelector('.bm-bg-image');
      const src = /url\("?(.*?)"?\)/.exec(getComputedStyle(el).backgroundImage)?.[1];
      const r = await fetch(src);
      return { status: r.status, type: r.headers.get('content-type') };
    });
    assert.deepEqual(loaded, { status: 200, type: 'image/png' });

    step = 'settings: the background stays on other pages and after a reload';
    await page.goto(url('/workspace/kanban'));
    await bg.waitFor();
    await page.reload();
    await bg.waitFor();
    assert.match(await bgImage(), /\/api\/v1\/theme-assets\/files\//);

    // ---- Audit log --------------------------------------------------------------------
    step = 'audit: the changes above are listed';
    await page.goto(url('/audit'));
    const audit = page.getByTestId('audit-table');
    await audit.getByText('delete', { exact: true }).first().waitFor();
    await audit.getByText('theme_assets', { exact: true }).first().waitFor();

    // ---- Screenshots of every page in both themes ------------------------------------
    step = 'screenshots in both themes';
    await screenshotBothThemes(
      page,
      PAGES.map((p) => ({ name: p.name, open: () => page.goto(url(p.path)), ready: () => p.ready(page).waitFor() })),
    );

    // ---- Account: sessions, sign out -------------------------------------------------
    step = 'account: this session is listed; a second session can be revoked';
    await page.goto(url('/account'));
    const sessions = page.getByTestId('sessions-table');
    await sessions.getByText('this session').waitFor();
    const other = await page.evaluate(
      async ([email, password]) =>
        (
          await fetch('/api/v1/auth/login', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ email, password }),
          })
        ).ok,
      [DEMO_USER.email, DEMO_USER.password],
    );
    assert.ok(other, 'a second sign-in');
    await page.reload();
    const rows = sessions.locator('tbody tr.ant-table-row');
    await rows.nth(1).waitFor();
    const before = await rows.count();
    await rows.filter({ hasNotText: 'this session' }).first().getByRole('button', { name: 'Revoke' }).click();
    await answerConfirm(page, 'Revoke');
    await toast('Session ended').waitFor();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="sessions-table"] tbody tr.ant-table-row').length === n,
      before - 1,
    );

    step = 'sign out';
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(onPath('/login'));
    assert.equal(await page.evaluate(() => localStorage.getItem('botmox.session')), null);

    step = 'no browser errors on any page';
    consoleErrors.assertClean();
    step = 'done';
  } catch (e) {
    await explainFailure(e, page, 'workspace-settings', [
      `failed at step: ${step}`,
      consoleErrors.report(),
      server && `--- server log (tail) ---\n${server.log().slice(-4000)}`,
    ]);
    throw e;
  } finally {
    await browser.close().catch(() => {});
    if (server) await server.stop();
  }
});
