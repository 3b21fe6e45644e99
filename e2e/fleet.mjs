// What the fleet browser test (fleet.test.mjs) and the 10,000-bot benchmark (bench-fleet.mjs)
// share: seeding bots over HTTP and watching the API traffic of a page.

import { DEMO_USER } from './support.mjs';

const STATUSES = ['prepare', 'leveling', 'farming', 'offline', 'profession'];
const PROJECTS = ['wow_tbc', 'wow_midnight'];

/** Signs in as `user` over plain fetch and answers its bearer token. */
export async function tokenOf(baseUrl, user = DEMO_USER) {
  const res = await fetch(new URL('/api/v1/auth/login', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  if (res.status !== 200) throw new Error(`sign-in: HTTP ${res.status}`);
  return (await res.json()).data.token;
}

/**
 * Creates `count` bots spread over the demo projects and lifecycle statuses, a third of them
 * seen a moment ago, `concurrency` requests at a time (there is no bulk create route).
 */
export async function seedBots(baseUrl, token, count, concurrency = 16) {
  let next = 0;
  const now = Date.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const bot = {
        name: `fleet-vm-${String(i).padStart(5, '0')}`,
        project_id: PROJECTS[i % PROJECTS.length],
        status: STATUSES[i % STATUSES.length],
        character: { name: `Fleet${i}`, level: 1 + (i % 70) },
        ...(i % 3 === 0 ? { last_seen: now } : {}),
      };
      const res = await fetch(new URL('/api/v1/bots', baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(bot),
      });
      if (res.status !== 201) throw new Error(`seeding bot ${i}: HTTP ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Records the page's API requests from now on: `requests` (method + path with query, in
 * order) and `bytes` (response headers + bodies as transferred, of the finished ones).
 * The change-feed stream counts as a request; it never finishes, so its few bytes do not.
 */
export function watchApi(page) {
  const seen = { requests: [], bytes: 0 };
  const isApi = (req) => new URL(req.url()).pathname.startsWith('/api/');
  const onRequest = (req) => {
    if (!isApi(req)) return;
    const u = new URL(req.url());
    seen.requests.push(`${req.method()} ${u.pathname}${u.search}`);
  };
  const onFinished = async (req) => {
    if (!isApi(req)) return;
    try {
      const sizes = await req.sizes();
      seen.bytes += sizes.responseHeadersSize + sizes.responseBodySize;
    } catch {
      // A request the page dropped (navigation) has no sizes.
    }
  };
  page.on('request', onRequest);
  page.on('requestfinished', onFinished);
  return {
    seen,
    stop() {
      page.off('request', onRequest);
      page.off('requestfinished', onFinished);
      return seen;
    },
  };
}

/** A request for a whole-collection page of bots (`GET /api/v1/bots?…`), not a summary. */
export const isBotListRead = (r) => /^GET \/api\/v1\/bots(\?|$)/.test(r);
