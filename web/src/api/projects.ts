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

export interface ProxySettings {
  auto_check_on_add?: boolean;
  fraud_score_threshold?: number;
  check_interval_hours?: number;
}

export const DEFAULT_FRAUD_THRESHOLD = 75;

export const proxySettingsApi = {
  get: () => api.get<ProxySettings | null>('/settings/proxy').then((p) => p ?? {}),
};
