// The settings documents the bot and resource screens read: configured
// projects (settings/projects, created, renamed and deleted here) and the expiry
// warning (settings/alerts).

import { api } from './client';

export interface ProjectInfo {
  id: string;
  name?: string;
  max_level?: number;
  [key: string]: unknown;
}


const projectPath = (id: string) => `/settings/projects/${encodeURIComponent(id)}`;

/** "WoW Classic Era!" → "wow_classic_era": a project id that is also a settings path segment. */
export const projectIdFrom = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 48);

export const projectsApi = {
  /** Creates the project, or merges these fields into it (a rename sends only the name). */
  save: (id: string, fields: Partial<ProjectInfo>) => api.put<ProjectInfo>(projectPath(id), fields),
  /** Refused (409 PROJECT_HAS_BOTS) while bots belong to it. */
  remove: (id: string) => api.delete<{ deleted: boolean }>(projectPath(id)),
};

export const projectSettingsApi = {
  projects: () => api.get<Record<string, ProjectInfo> | null>('/settings/projects'),
};

export interface ProxySettings {
  auto_check_on_add?: boolean;
  fraud_score_threshold?: number;
  check_interval_hours?: number;
}

export const DEFAULT_FRAUD_THRESHOLD = 75;

export const proxySettingsApi = {
  get: () => api.get<ProxySettings | null>('/settings/proxy').then((p) => p ?? {}),
};
