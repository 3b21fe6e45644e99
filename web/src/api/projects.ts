// The settings documents the bot and resource screens read: configured
// projects (settings/projects) and the expiry warning (settings/alerts).

import { api } from './client';

export interface ProjectInfo {
  id: string;
  name?: string;
  max_level?: number;
  [key: string]: unknown;
}

export const DEFAULT_WARNING_DAYS = 7;

export const projectSettingsApi = {
  projects: () => api.get<Record<string, ProjectInfo> | null>('/settings/projects'),
  warningDays: () =>
    api
      .get<{ warning_days?: number } | null>('/settings/alerts')
      .then((a) => (typeof a?.warning_days === 'number' ? a.warning_days : DEFAULT_WARNING_DAYS)),
};
