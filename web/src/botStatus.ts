// What every bot screen and the shell derive from a bot document, kept free
// of UI libraries so the shell (tree, crumbs) can use it on the first screen:
// effective status, labels, status colours (web-ui.md §1.2, §1.7), projects.

import { BOT_STATUSES, type Bot, type BotStatus } from './api/bots';
import type { ProjectInfo } from './api/projects';
import { S } from './strings';

export const OFFLINE_AFTER_MS = 5 * 60 * 1000;
export const ACTIVE_STATUSES: readonly BotStatus[] = ['leveling', 'profession', 'farming'];

export const STATUS_COLORS: Record<BotStatus, string> = {
  offline: '#8e9aa6',
  prepare: '#3498db',
  leveling: '#9b59b6',
  profession: '#e84393',
  farming: '#2ecc71',
  banned: '#e74c3c',
};

export function storedStatus(bot: Bot): BotStatus {
  return bot.status && (BOT_STATUSES as readonly string[]).includes(bot.status) ? bot.status : 'offline';
}

/** Banned stays banned; otherwise a bot unseen for 5 minutes is offline. */
export function effectiveStatus(bot: Bot, now = Date.now()): BotStatus {
  const s = storedStatus(bot);
  if (s === 'banned') return s;
  if (typeof bot.last_seen !== 'number' || now - bot.last_seen > OFFLINE_AFTER_MS) return 'offline';
  return s;
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
export function projectList(settings: Record<string, ProjectInfo> | null | undefined, bots: Iterable<Bot> = []): Project[] {
  const names = new Map<string, string>();
  for (const [id, p] of Object.entries(settings ?? {})) names.set(id, p?.name || prettifyId(id));
  for (const b of bots) if (b.project_id && !names.has(b.project_id)) names.set(b.project_id, prettifyId(b.project_id));
  return [...names.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, name]) => ({ id, name }));
}

