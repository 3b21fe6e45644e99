// Licenses, proxies and subscriptions (api-domains.md §6) and the IP quality
// checks that fill a proxy's IPQS fields (§12, our caching in docs/api.md).

import { api } from './client';
import { fetchAll, fetchListPage, type ListQuery } from './lists';

export type ResourceKind = 'licenses' | 'proxies' | 'subscriptions';

interface ResourceBase {
  id: string;
  expires_at?: number;
  created_at?: number;
  updated_at?: number;
  [key: string]: unknown;
}

export interface License extends ResourceBase {
  key?: string;
  type?: string;
  status?: 'active' | 'expired' | 'revoked' | string;
  bot_ids?: string[];
}

export interface IpqsFields {
  fraud_score?: number;
  country_code?: string | null;
  region?: string;
  city?: string;
  zip_code?: string;
  isp?: string;
  organization?: string;
  timezone?: string;
  latitude?: number;
  longitude?: number;
  vpn?: boolean;
  proxy?: boolean;
  tor?: boolean;
  bot_status?: boolean;
}

export interface Proxy extends ResourceBase, IpqsFields {
  ip?: string;
  port?: number;
  login?: string;
  password?: string;
  provider?: string;
  country?: string;
  type?: 'http' | 'socks5' | string;
  status?: 'active' | 'expired' | 'banned' | string;
  bot_id?: string | null;
  last_checked?: number;
}

export interface Subscription extends ResourceBase {
  type?: 'wow' | 'bot' | 'proxy' | 'vpn' | 'other' | string;
  status?: 'active' | 'cancelled' | string;
  bot_id?: string;
  account_email?: string;
  auto_renew?: boolean;
  project_id?: string;
  notes?: string;
}

export interface ResourceOf {
  licenses: License;
  proxies: Proxy;
  subscriptions: Subscription;
}

export interface ExpiringItem {
  id: string;
  expires_at: number;
  days_remaining: number;
}

export interface ExpiringReport {
  threshold_days: number;
  expired: ExpiringItem[];
  expiring_soon: ExpiringItem[];
}

function resourceApi<K extends ResourceKind>(kind: K) {
  type T = ResourceOf[K];
  const base = `/resources/${kind}`;
  const one = (id: string) => `${base}/${encodeURIComponent(id)}`;
  return {
    path: base,
    page: (q: ListQuery) => fetchListPage<T>(base, q),
    all: (q: Omit<ListQuery, 'page' | 'limit'> = { sort: 'updated_at', order: 'desc' }) => fetchAll<T>(base, q),
    create: (body: Partial<T>) => api.post<T>(base, body),
    patch: (id: string, body: Partial<T>) => api.patch<T>(one(id), body),
    remove: (id: string) => api.delete<{ id: string; deleted: boolean }>(one(id)),
    expiring: () => api.get<ExpiringReport>(`${base}/expiring`),
  };
}

/** One kind's counts in GET /resources/summary: `states` by the list's `state` rules. */
export interface KindSummary {
  total: number;
  unassigned: number;
  threshold_days: number;
  states: Record<string, number>;
}

export type ResourceSummary = Record<ResourceKind, KindSummary>;

export const resourcesApi = {
  summary: () => api.get<ResourceSummary>('/resources/summary'),
};

export const licensesApi = {
  ...resourceApi('licenses'),
  /** Takes the bot off the license; the server deletes the license when no bot remains. */
  unassign: (id: string, botId: string) =>
    api.post<{ id: string; bot_ids: string[]; deleted: boolean }>(`/resources/licenses/${encodeURIComponent(id)}/unassign`, { bot_id: botId }),
};
export const proxiesApi = resourceApi('proxies');
export const subscriptionsApi = resourceApi('subscriptions');

export interface IpqsStatus {
  enabled: boolean;
  configured: boolean;
}

export interface IpqsResult extends IpqsFields {
  success: boolean;
  message?: string;
  checked_at?: number;
}

export interface IpqsBatchItem {
  ip: string;
  success: boolean;
  data?: IpqsResult;
  error?: string;
}

/** Largest batch the server accepts. */
export const IPQS_BATCH_MAX = 10;

export const ipqsApi = {
  status: () => api.get<IpqsStatus>('/ipqs/status'),
  check: (ip: string, refresh = false) => api.post<IpqsResult>(`/ipqs/check${refresh ? '?refresh=true' : ''}`, { ip }),
  checkBatch: (ips: string[]) => api.post<{ results: IpqsBatchItem[] }>('/ipqs/check-batch', { ips }),
};
