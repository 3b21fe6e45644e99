// Benchmark: the web UI over a fleet of 10,000 bots (issue 17 §3). Not a *.test.mjs, so the
// CI's browser run skips it; run it by hand and copy its figures to docs/benchmarks.md:
//
//   BOTMOX_BIN=$CARGO_TARGET_DIR/debug/botmox node e2e/bench-fleet.mjs [bots]
//
// Starts `botmox --demo` on a fresh data directory, seeds the bots over HTTP (16 creates at a
// time: there is no bulk route), then in headless chromium measures
//   - time to content of the Overview (navigation to the project cards' counts) and of a
//     project page (to its stat cards and first table row),
//   - what an idle Overview tab asks of the API in 30 s (requests, bytes transferred),
//   - the tree: expanding the largest status group until its first bot shows, and how many
//     tree rows are in the DOM (virtualised: only those in view).
// Budgets (issue 17): idle Overview ≤ 20 requests and ≤ 300 KB per 30 s; content < 1 s.

import { performance } from 'node:perf_hooks';
import { explainFailure, launchBrowser, newPage, signIn, startServer } from './support.mjs';
import { isBotListRead, seedBots, tokenOf, watchApi } from './fleet.mjs';

const BOTS = Number(process.argv[2] ?? 10_000);
const IDLE_MS = 30_000;

const bin = process.env.BOTMOX_BIN;
if (!bin) {
  console.error('set BOTMOX_BIN to the server binary');
  process.exit(2);
}

const ms = (t0) => Math.round(performance.now() - t0);

const server = await startServer(bin, { args: ['--demo'], dataDirPrefix: 'botmox-bench-fleet-' });
const browser = await launchBrowser();
let page;
try {
  const token = await tokenOf(server.baseUrl);
  let t0 = performance.now();
  await seedBots(server.baseUrl, token, BOTS);
  const seedMs = ms(t0);

  ({ page } = await newPage(browser));
  await signIn(page, server.baseUrl);
  const cardCount = page.getByTestId('map-project-wow_tbc').locator('.ant-tag').first();
  await cardCount.waitFor();

  // Time to content: a fresh load of the Overview until the project card shows its count.
  t0 = performance.now();
  await page.goto(new URL('/', server.baseUrl).toString());
  await cardCount.waitFor();
  const overviewMs = ms(t0);

  t0 = performance.now();
  await page.goto(new URL('/project/wow_tbc', server.baseUrl).toString());
  await page.locator('[data-testid="stat-total"]').filter({ hasText: /\d{3,}/ }).waitFor();
  await page.locator('.ant-table-row').first().waitFor();
  const projectMs = ms(t0);

  // The tree: open the project and its largest status group.
  await page.goto(new URL('/', server.baseUrl).toString());
  await cardCount.waitFor();
  await page.waitForLoadState('networkidle');
  const tree = page.locator('.bm-tree');
  // Opens a node by its switcher until `shown` appears (a row can move while the tree loads).
  const open = async (node, shown) => {
    for (let i = 0; ; i++) {
      await node.waitFor();
      // A click while a branch is still sliding open lands on the row that was there.
      await tree.locator('.ant-tree-treenode-motion').first().waitFor({ state: 'detached' });
      if (!(await node.locator('.ant-tree-switcher_open').count())) await node.locator('.ant-tree-switcher').click();
      try {
        await shown.first().waitFor({ timeout: 3_000 });
        return;
      } catch (e) {
        if (i === 4) throw e;
      }
    }
  };
  const node = (title) => tree.locator('.ant-tree-treenode', { hasText: title });
  await open(node(/^Projects$/), node(/^WoW TBC \(/));
  const groupNode = node(/^Prepare \(\d+\)/).first();
  await open(node(/^WoW TBC \(/), groupNode);
  await tree.locator('.ant-tree-treenode-motion').first().waitFor({ state: 'detached' });
  t0 = performance.now();
  await open(groupNode, node(/^Fleet\d+ /));
  const treeExpandMs = ms(t0);
  const treeRows = await tree.locator('.ant-tree-treenode').count();
  const groupTitle = (await groupNode.textContent())?.trim();
  // Collapse again, so the idle window measures the Overview as a user left it.
  await groupNode.locator('.ant-tree-switcher').click();
  await page.waitForLoadState('networkidle');

  const watch = watchApi(page);
  await page.waitForTimeout(IDLE_MS);
  const idle = watch.stop();

  const byPath = {};
  for (const r of idle.requests) {
    const p = r.replace(/\?.*$/, '');
    byPath[p] = (byPath[p] ?? 0) + 1;
  }
  const figures = {
    bots: BOTS,
    seed_ms: seedMs,
    overview_content_ms: overviewMs,
    project_page_content_ms: projectMs,
    tree_group: groupTitle,
    tree_expand_to_first_bot_ms: treeExpandMs,
    tree_rows_in_dom: treeRows,
    idle_overview_30s_requests: idle.requests.length,
    idle_overview_30s_kb: Math.round(idle.bytes / 102.4) / 10,
    idle_bot_list_reads: idle.requests.filter(isBotListRead).length,
    idle_requests_by_path: byPath,
  };
  console.log(JSON.stringify(figures, null, 2));
} catch (e) {
  const tree = await page?.locator('.bm-tree').innerText().catch(() => '');
  await explainFailure(e, page, 'bench-fleet', [`tree:\n${tree}`]);
  throw e;
} finally {
  await browser.close();
  await server.stop();
}
