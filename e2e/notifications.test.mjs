// Browser test of the notification settings against a real --demo server and a fake Telegram
// Bot API on loopback (the server's --telegram-base-url points at it).
//
// Server: BOTMOX_BIN=/path/to/botmox (spawned as `botmox serve --listen 127.0.0.1:0
// --data-dir <tmp> --demo --telegram-base-url <fake> --scheduler-tick-ms 500`; the fast scheduler
// gives the switched-off scheduled events, like the offline sweep and expiring resources,
// every chance to send something they must not).
// Browser: Debian's chromium (BOTMOX_E2E_CHROMIUM, default /usr/bin/chromium) through
// playwright-core; nothing is downloaded.
//
// Flow: a test message before Telegram is set up says so; a server-side field error shows next
// to its field; two events on and the rest off; the bot token goes to the vault and is never
// shown back; the test message and a bot ban reach the fake once each with the right chat;
// a switched-off event (level up) sends nothing; the delivery history lists both; a refused
// message shows Telegram's reason. No console errors besides the 4xx/5xx answers provoked on
// purpose; screenshots of the settings page in both themes go to e2e/screenshots/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  eventually,
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

const TOKEN = '123456789:E2E-vault-token_qwerty';
const CHAT = '-1001234567890';
/** The fake refuses this chat as Telegram does an unknown one. */
const UNKNOWN_CHAT = '@nosuchchat';
const EVENTS_ON = ['Bot Banned', 'Profession Maxed'];
const EVENTS_OFF = ['Bot Offline', 'Bot Online', 'Level Up', 'Low Fraud Score', 'Daily Report', 'Resources Expiring'];

/** A Telegram Bot API double: POST /bot<token>/sendMessage, every request recorded. */
function startTelegram() {
  const messages = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const m = /^\/bot([^/]+)\/sendMessage$/.exec(req.url ?? '');
      let body = null;
      try {
        body = JSON.parse(raw);
      } catch {
        // recorded as null: the assertions on chat_id fail loudly
      }
      res.setHeader('content-type', 'application/json');
      if (!m) {
        res.statusCode = 404;
        res.end(JSON.stringify({ ok: false, error_code: 404, description: 'Not Found' }));
        return;
      }
      messages.push({ token: decodeURIComponent(m[1]), chat_id: body?.chat_id, text: body?.text });
      if (body?.chat_id === UNKNOWN_CHAT) {
        res.statusCode = 400;
        res.end(JSON.stringify({ ok: false, error_code: 400, description: 'Bad Request: chat not found' }));
        return;
      }
      res.end(JSON.stringify({ ok: true, result: { message_id: messages.length, chat: { id: body?.chat_id }, text: body?.text } }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, messages, url: `http://127.0.0.1:${server.address().port}` })),
  );
}

const skip = !process.env.BOTMOX_BIN ? 'set BOTMOX_BIN (server binary)' : noChromium();

test('notification settings: Telegram in the vault, test message, events delivered or not, history', { skip, timeout: 300_000 }, async (t) => {
  const telegram = await startTelegram();
  const server = await startServer(process.env.BOTMOX_BIN, {
    // The Telegram double listens on loopback, which the egress policy refuses unless allowed.
    args: ['--demo', '--telegram-base-url', telegram.url, '--scheduler-tick-ms', '500', '--egress-allow', '127.0.0.1'],
    dataDirPrefix: 'botmox-e2e-notify-',
  });
  const { baseUrl } = server;
  t.diagnostic(`server ${baseUrl}, Telegram double ${telegram.url}`);

  const browser = await launchBrowser();
  const { page } = await newPage(browser);
  // The 4xx/5xx answers this test provokes are announced with `expectFailed(status)`.
  const consoleErrors = collectConsoleErrors(page);
  const { expectFailed } = consoleErrors;

  const url = (p) => new URL(p, baseUrl).toString();
  const toast = (text) => page.locator('.ant-message').getByText(text).first().waitFor();
  const fieldError = (card, text) => card.locator('.ant-form-item-explain-error', { hasText: text }).waitFor();
  const apiCall = (method, p, body) => pageApi(page, method, p, body);
  const deliveries = async () => (await apiCall('GET', '/notifications/deliveries?limit=200')).body.data.items;
  const telegramCard = page.getByTestId('settings-telegram');
  const eventsCard = page.getByTestId('settings-notifications');
  const webhookCard = page.getByTestId('settings-webhook');
  const history = page.getByTestId('settings-deliveries');
  const historyRows = history.locator('tbody tr.ant-table-row');
  /** The settings page with every card loaded (their forms enable once loaded). */
  const openSettings = async () => {
    await page.goto(url('/settings'));
    await telegramCard.getByLabel('Chat ID').and(page.locator(':enabled')).waitFor();
    await eventsCard.getByLabel('Time').and(page.locator(':enabled')).waitFor();
  };
  const setSwitch = async (sw, on) => {
    if ((await sw.getAttribute('aria-checked')) !== String(on)) await sw.click();
    assert.equal(await sw.getAttribute('aria-checked'), String(on));
  };

  let step = 'start';
  try {
    step = 'sign in as the demo admin';
    await signIn(page, baseUrl);

    step = 'settings: every notification card shows, the history is empty';
    await openSettings();
    await telegramCard.getByTestId('channel-state').filter({ hasText: 'Off' }).waitFor();
    await telegramCard.getByTestId('secret-state').filter({ hasText: 'not set' }).waitFor();
    await webhookCard.getByLabel('URL').waitFor();
    for (const label of [...EVENTS_ON, ...EVENTS_OFF]) await eventsCard.getByLabel(label, { exact: true }).waitFor();
    await history.getByText('Nothing sent yet').waitFor();

    step = 'test message before Telegram is set up: the 409 in words';
    expectFailed(409);
    await telegramCard.getByRole('button', { name: 'Send test message' }).click();
    await telegramCard.getByTestId('test-result').filter({ hasText: 'Telegram is not set up yet: save a bot token and a chat ID first.' }).waitFor();
    assert.equal(telegram.messages.length, 0);

    step = 'a malformed bot token is refused next to its field before saving';
    await telegramCard.getByLabel('Bot Token').fill('not a token');
    await telegramCard.getByRole('button', { name: 'Save Telegram' }).click();
    await fieldError(telegramCard, 'Looks like 123456789:ABC-def');

    step = "the server's field error shows next to the field (a webhook URL over 2000 characters)";
    await webhookCard.getByLabel('URL').fill(`https://example.com/${'x'.repeat(2000)}`);
    expectFailed(400);
    await webhookCard.getByRole('button', { name: 'Save Webhook' }).click();
    await fieldError(webhookCard, 'must be an http:// or https:// URL of at most 2000 characters');
    await toast(/Could not save/);

    step = 'events: two on, the rest off, saved';
    for (const label of EVENTS_ON) await setSwitch(eventsCard.getByLabel(label, { exact: true }), true);
    for (const label of EVENTS_OFF) await setSwitch(eventsCard.getByLabel(label, { exact: true }), false);
    await eventsCard.getByLabel('Time').fill('25:00');
    await eventsCard.getByRole('button', { name: 'Save Notifications' }).click();
    await fieldError(eventsCard, 'Use HH:MM (24 h)');
    await eventsCard.getByLabel('Time').fill('08:30');
    await eventsCard.getByRole('button', { name: 'Save Notifications' }).click();
    await toast('Notification settings saved');

    step = 'telegram: token, chat id, switched on, saved';
    await telegramCard.getByLabel('Enable Telegram Notifications').click();
    await telegramCard.getByLabel('Bot Token').fill(TOKEN);
    await telegramCard.getByLabel('Chat ID').fill(CHAT);
    await telegramCard.getByRole('button', { name: 'Save Telegram' }).click();
    await toast('Telegram settings saved');
    await telegramCard.getByTestId('channel-state').filter({ hasText: 'Delivering events' }).waitFor();

    step = 'reload: the token reads as set and its value is nowhere in the page';
    await openSettings();
    await telegramCard.getByTestId('secret-state').filter({ hasText: /^set$/ }).waitFor();
    await telegramCard.getByTestId('channel-state').filter({ hasText: 'Delivering events' }).waitFor();
    assert.equal(await telegramCard.getByLabel('Bot Token').inputValue(), '');
    assert.equal(await telegramCard.getByLabel('Chat ID').inputValue(), CHAT);
    assert.ok(!(await page.content()).includes(TOKEN), 'the bot token is not in the page');
    assert.ok(!(await page.evaluate(() => JSON.stringify(localStorage))).includes(TOKEN), 'nor in browser storage');
    const settings = (await apiCall('GET', '/notifications/settings')).body.data;
    assert.equal(settings.telegram.bot_token, '********');
    for (const label of EVENTS_ON) assert.equal(await eventsCard.getByLabel(label, { exact: true }).getAttribute('aria-checked'), 'true', label);
    for (const label of EVENTS_OFF) assert.equal(await eventsCard.getByLabel(label, { exact: true }).getAttribute('aria-checked'), 'false', label);
    assert.equal(await eventsCard.getByLabel('Time').inputValue(), '08:30');
    assert.equal(telegram.messages.length, 0, 'saving sends nothing');

    step = 'send test message: delivered once, to the chat, with the stored token';
    await telegramCard.getByRole('button', { name: 'Send test message' }).click();
    await telegramCard.getByTestId('test-result').filter({ hasText: /Test message delivered \(delivery #\d+\)/ }).waitFor();
    assert.equal(telegram.messages.length, 1);
    assert.equal(telegram.messages[0].chat_id, CHAT);
    assert.equal(telegram.messages[0].token, TOKEN);
    assert.match(telegram.messages[0].text, /test message/);

    step = 'an enabled event (bot banned, through the API) reaches the chat once with the bot name';
    const bots = (await apiCall('GET', '/bots?limit=200')).body.data;
    const [victim, other] = bots.filter((b) => b.status !== 'banned' && typeof b.character?.level === 'number');
    assert.ok(victim && other, 'two demo bots that are not banned');
    const d = new Date();
    const banDate = `${String(d.getDate()).padStart(2, '0')}.${String(d.getMonth() + 1).padStart(2, '0')}.${d.getFullYear()}`;
    const ban = await apiCall('POST', `/bots/${victim.id}/lifecycle/ban`, {
      ban_date: banDate,
      ban_reason: 'E2E ban wave',
      ban_mechanism: 'game_suspension',
    });
    assert.equal(ban.status, 200, JSON.stringify(ban.body));
    await eventually('the ban message at the fake Telegram', () => telegram.messages.length >= 2);
    assert.equal(telegram.messages[1].chat_id, CHAT);
    assert.match(telegram.messages[1].text, /Bot banned/);
    assert.ok(telegram.messages[1].text.includes(victim.name), `the message names ${victim.name}`);
    assert.match(telegram.messages[1].text, /E2E ban wave/);

    step = 'a switched-off event (level up) queues and sends nothing';
    const level = await apiCall('PATCH', `/bots/${other.id}`, { character: { ...other.character, level: other.character.level + 1 } });
    assert.equal(level.status, 200, JSON.stringify(level.body));
    assert.equal((await deliveries()).length, 2, 'no delivery row for the level up');

    step = 'the delivery history lists both, newest first';
    await history.getByRole('button', { name: 'Refresh' }).click();
    await eventually('two delivered rows in the history', async () => (await historyRows.filter({ hasText: 'sent' }).count()) === 2);
    assert.equal(await historyRows.count(), 2);
    await historyRows.nth(0).filter({ hasText: 'Bot Banned' }).filter({ hasText: 'Telegram' }).waitFor();
    await historyRows.nth(1).filter({ hasText: 'Test message' }).filter({ hasText: 'Telegram' }).waitFor();
    await historyRows.nth(0).getByRole('button', { name: /expand/i }).click();
    await history.getByText(/E2E ban wave/).waitFor();

    step = "a refused test message shows Telegram's reason and lands in the history as failed";
    await telegramCard.getByLabel('Chat ID').fill(UNKNOWN_CHAT);
    // An earlier save's toast reads the same: gone first, so the wait below is for this save.
    await page.locator('.ant-message').getByText('Telegram settings saved').waitFor({ state: 'detached' });
    await telegramCard.getByRole('button', { name: 'Save Telegram' }).click();
    await toast('Telegram settings saved');
    expectFailed(502);
    await telegramCard.getByRole('button', { name: 'Send test message' }).click();
    await telegramCard
      .getByTestId('test-result')
      .filter({ hasText: 'Telegram did not take the message (Telegram answered HTTP 400: Bad Request: chat not found)' })
      .waitFor();
    const failedRow = historyRows.filter({ hasText: 'failed' });
    await failedRow.filter({ hasText: 'chat not found' }).waitFor();
    assert.equal(await historyRows.count(), 3);
    await telegramCard.getByLabel('Chat ID').fill(CHAT);
    // An earlier save's toast reads the same: gone first, so the wait below is for this save.
    await page.locator('.ant-message').getByText('Telegram settings saved').waitFor({ state: 'detached' });
    await telegramCard.getByRole('button', { name: 'Save Telegram' }).click();
    await toast('Telegram settings saved');

    step = 'screenshots of the settings page in both themes';
    // The page scrolls inside the layout, so a tall window shows every card at once.
    await page.setViewportSize({ width: 1440, height: 2800 });
    await screenshotBothThemes(page, [{ name: 'settings-notifications', open: openSettings, ready: () => historyRows.nth(2).waitFor() }]);

    step = 'nothing else was sent: switched-off events stayed quiet all along';
    const all = telegram.messages.map((m) => m.text.split('\n')[0]);
    assert.equal(telegram.messages.length, 3, `messages: ${JSON.stringify(all)}`);
    assert.equal(telegram.messages.filter((m) => m.chat_id === CHAT).length, 2);
    assert.equal((await deliveries()).length, 3);

    step = 'no browser errors besides the provoked ones';
    consoleErrors.assertClean();
    step = 'done';
  } catch (e) {
    await explainFailure(e, page, 'notifications', [
      `failed at step: ${step}`,
      `telegram double got: ${JSON.stringify(telegram.messages)}`,
      consoleErrors.report(),
      `--- server log (tail) ---\n${server.log().slice(-4000)}`,
    ]);
    throw e;
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
    telegram.server.close();
  }
});
