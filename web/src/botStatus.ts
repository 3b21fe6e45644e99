// What every bot screen and the shell derive from a bot document, kept free
// of UI libraries so the shell (tree, crumbs) can use it on the first screen:
// lifecycle status and presence, labels, status colors (web-ui.md §1.2, §1.7), projects.
//
// Two facts, never mixed: the lifecycle status is what the bot is doing (stored, changed by
// transitions and bans), presence is whether it reports (its last heartbeat against the
// server's offline window). A bot in prepare that never reported is "prepare, never seen".

import { BOT_STATUSES, type Bot, type BotStatus, type BotSummary } from './api/bots';
import type { ProjectInfo } from './api/projects';
import { S } from './strings';

export const ACTIVE_STATUSES: readonly BotStatus[] = ['leveling', 'profession', 'farming'];

export const STATUS_COLORS: Record<BotStatus, string> = {
  offline: '#8e9aa6',
  prepare: '#3498db',
  leveling: '#9b59b6',
  profession: '#e84393',
  farming: '#2ecc71',
  banned: '#e74c3c',
};

/** The lifecycle status as stored; missing or unknown reads as idle (`offline`), as on the server. */
export function storedStatus(bot: Bot): BotStatus {
  return bot.status && (BOT_STATUSES as readonly string[]).includes(bot.status) ? bot.status : 'offline';
}

export const PRESENCES = ['online', 'offline', 'never_seen'] as const;
export type Presence = (typeof PRESENCES)[number];

export const PRESENCE_COLORS: Record<Presence, string> = {
  online: '#2ecc71',
  offline: '#8e9aa6',
  never_seen: '#b7a57a',
};

/** Online when the last heartbeat is within `offlineAfterMs` (the server's policy). */
export function presenceOf(bot: Bot, offlineAfterMs: number, now = Date.now()): Presence {
  if (typeof bot.last_seen !== 'number') return 'never_seen';
  return now - bot.last_seen > offlineAfterMs ? 'offline' : 'online';
}

/** Short id for tables and crumbs: the first 8 characters after the common "bot-" prefix. */
export const id8 = (id: string) => id.replace(/^bot-/, '').slice(0, 8);

/** "character (VM)" — what lists show for a bot. */
export function botLabel(bot: Bot | undefined, fallbackId = ''): string {
  if (!bot) return fallbackId;
  const who = bot.character?.name || S.bot.unnamed;
  return `${who} (${bot.name || S.bot.noVm})`;
}

export interface Project {
  id: string;
  name: string;
}

/** "wow_tbc" → "Wow Tbc". */
export function prettifyId(id: string): string {
  return id
    .split(/[_-]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');
}

/** Projects = configured ones ∪ those named on bots, sorted by id (web-ui.md §1.2). */
export function projectList(
  settings: Record<string, ProjectInfo> | null | undefined,
  bots: Iterable<{ project_id?: string | null }> = [],
): Project[] {
  const names = new Map<string, string>();
  for (const [id, p] of Object.entries(settings ?? {})) names.set(id, p?.name || prettifyId(id));
  for (const b of bots) if (b.project_id && !names.has(b.project_id)) names.set(b.project_id, prettifyId(b.project_id));
  return [...names.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, name]) => ({ id, name }));
}


/** One project's bots counted from GET /bots/summary, by lifecycle status and by presence. */
export interface FleetCounts {
  total: number;
  byStatus: Record<BotStatus, number>;
  byPresence: Record<Presence, number>;
}

/** The counts of `projectId`'s bots (all bots when undefined); unknown statuses read as idle. */
export function fleetCounts(summary: BotSummary | undefined, projectId?: string): FleetCounts {
  const c: FleetCounts = {
    total: 0,
    byStatus: Object.fromEntries(BOT_STATUSES.map((s) => [s, 0])) as Record<BotStatus, number>,
    byPresence: Object.fromEntries(PRESENCES.map((p) => [p, 0])) as Record<Presence, number>,
  };
  for (const g of summary?.groups ?? []) {
    if (projectId !== undefined && g.project_id !== projectId) continue;
    c.total += g.count;
    c.byStatus[storedStatus({ id: '', status: g.status as BotStatus })] += g.count;
    c.byPresence[g.presence] += g.count;
  }
  return c;
}

/** The lifecycle statuses that count as active work. */
export const activeCount = (c: FleetCounts) => ACTIVE_STATUSES.reduce((n, s) => n + c.byStatus[s], 0);
