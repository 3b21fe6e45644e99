// Bots (api-domains.md §5; our lifecycle rules in docs/api.md).

import { api } from './client';
import { fetchAll, fetchListPage, type ListQuery } from './lists';

export const BOT_STATUSES = ['offline', 'prepare', 'leveling', 'profession', 'farming', 'banned'] as const;
export type BotStatus = (typeof BOT_STATUSES)[number];

export const BAN_MECHANISMS = [
  'battlenet_account_closure',
  'battlenet_account_suspension',
  'game_suspension',
  'hardware_ban',
  'ip_ban',
  'other',
] as const;
export type BanMechanism = (typeof BAN_MECHANISMS)[number];

export interface BanDetails {
  ban_date: string;
  ban_reason: string;
  ban_mechanism: BanMechanism;
  ban_timestamp?: number;
  unbanned_at?: number;
}

export interface StageTransition {
  from: string;
  to: string;
  timestamp: number;
}

export interface Lifecycle {
  current_stage?: string;
  previous_status?: BotStatus;
  stage_transitions?: StageTransition[];
  ban_details?: BanDetails;
}

export interface Character {
  name?: string;
  level?: number;
  class?: string;
  race?: string;
  server?: string;
  faction?: 'alliance' | 'horde' | string;
}

export interface Account {
  email?: string;
  password?: string;
  bnet_created_at?: number | string;
}

export interface Person {
  first_name?: string;
  last_name?: string;
  birth_date?: string;
  country?: string;
  city?: string;
  zip?: string;
  address?: string;
}

/** Sections a generator fills; a set lock makes the section read-only (web-ui.md §2.3). */
export type LockKey = 'person_data' | 'account_email' | 'account_password' | 'character_name' | 'schedule';

export interface Bot {
  id: string;
  generation_locks?: Partial<Record<LockKey, boolean>>;
  name?: string;
  project_id?: string;
  status?: BotStatus;
  character?: Character;
  account?: Account;
  person?: Person;
  vm?: { name?: string; ip?: string; created_at?: number };
  last_seen?: number;
  lifecycle?: Lifecycle | null;
  schedule?: unknown;
  leveling?: Record<string, unknown>;
  professions?: Record<string, unknown>;
  farm?: Record<string, unknown>;
  created_at?: number;
  updated_at?: number;
  [key: string]: unknown;
}

export interface LifecycleLogEntry {
  id?: string | number;
  type: string;
  message?: string;
  details?: unknown;
  timestamp: number;
}

export interface ArchivedBot {
  id: number;
  bot_id: string;
  reason?: string;
  archived_at: number;
  ban_details?: BanDetails;
  snapshot?: { project_id?: string; character?: Character; [key: string]: unknown };
  [key: string]: unknown;
}

/** One cell of GET /bots/summary: bots sharing a project, a stored status and a presence. */
export interface SummaryGroup {
  project_id: string | null;
  status: string | null;
  presence: 'online' | 'offline' | 'never_seen';
  count: number;
}

export interface BotSummary {
  total: number;
  groups: SummaryGroup[];
}

const path = (id: string) => `/bots/${encodeURIComponent(id)}`;

export const botsApi = {
  page: (q: ListQuery) => fetchListPage<Bot>('/bots', q),
  /** Counts by project × status × presence, computed by the server (no bots). */
  summary: () => api.get<BotSummary>('/bots/summary'),
  all: (q: Omit<ListQuery, 'page' | 'limit'> = { sort: 'updated_at', order: 'desc' }) => fetchAll<Bot>('/bots', q),
  get: (id: string) => api.get<Bot>(path(id)),
  create: (body: Partial<Bot>) => api.post<Bot>('/bots', body),
  patch: (id: string, body: Partial<Bot>) => api.patch<Bot>(path(id), body),
  remove: (id: string) => api.delete<{ id: string; deleted: boolean }>(path(id)),
  transition: (id: string, status: BotStatus) => api.post<Bot>(`${path(id)}/lifecycle/transition`, { status }),
  ban: (id: string, details: Omit<BanDetails, 'ban_timestamp' | 'unbanned_at'>) =>
    api.post<Bot>(`${path(id)}/lifecycle/ban`, details),
  unban: (id: string) => api.post<Bot>(`${path(id)}/lifecycle/unban`, {}),
  log: (id: string) => api.get<LifecycleLogEntry[]>(`${path(id)}/lifecycle/log`),
  archive: (q: Pick<ListQuery, 'page' | 'limit'>) => fetchListPage<ArchivedBot>('/bots/archive', q),
};
