// Licenses, entitlements and the execution leases issued against them (api-ops.md §7;
// admin routes under /license).

import { api } from './client';
import { fetchListPage, type ListPage } from './lists';

export const LICENSE_TYPES = ['subscription', 'perpetual', 'alltime'] as const;
export const LICENSE_STATUSES = ['active', 'expired', 'revoked'] as const;
export type LicenseStatus = (typeof LICENSE_STATUSES)[number];

export interface License {
  id: string;
  /** null = every user of the tenant. */
  user_id: string | null;
  type: string;
  status: LicenseStatus;
  expires_at_ms: number | null;
  updated_by: string;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface LicenseBody {
  user_id?: string;
  type: string;
  status: LicenseStatus;
  expires_at_ms?: number;
}

export interface Entitlement {
  user_id: string;
  /** An array of module names, or `{ "<module>": true, "*": true }`. */
  modules: string[] | Record<string, boolean>;
  max_active_leases: number | null;
  updated_at_ms: number;
  updated_by: string;
}

export interface EntitlementBody {
  /** `{ "<module>": true }`; `"*"` allows every module. */
  modules: Record<string, boolean>;
  max_active_leases?: number;
}

export const LEASE_STATES = ['active', 'expired', 'revoked'] as const;
export type LeaseState = (typeof LEASE_STATES)[number];

export interface LeaseInfo {
  id: string;
  user_id: string;
  vm_uuid: string;
  vm_name: string;
  module: string;
  version: string | null;
  agent_id: string;
  runner_id: string;
  license_id: string;
  state: LeaseState;
  created_at_ms: number;
  expires_at_ms: number;
  last_heartbeat_at_ms: number;
  revoked_at_ms: number | null;
}

/** The module names an entitlement allows, whichever form it is stored in. */
export function entitledModules(e: Entitlement): string[] {
  return Array.isArray(e.modules) ? e.modules : Object.entries(e.modules).filter(([, on]) => on).map(([m]) => m);
}

const enc = encodeURIComponent;

export const leasesApi = {
  licenses: () => api.get<License[]>('/license/licenses'),
  putLicense: (id: string, body: LicenseBody) => api.put<License>(`/license/licenses/${enc(id)}`, body),
  deleteLicense: (id: string) => api.delete<unknown>(`/license/licenses/${enc(id)}`),
  entitlements: () => api.get<Entitlement[]>('/license/entitlements'),
  putEntitlement: (userId: string, body: EntitlementBody) =>
    api.put<Entitlement>(`/license/entitlements/${enc(userId)}`, body),
  deleteEntitlement: (userId: string) => api.delete<unknown>(`/license/entitlements/${enc(userId)}`),
  leases: (page: number, limit: number, state?: string): Promise<ListPage<LeaseInfo>> =>
    fetchListPage<LeaseInfo>('/license/leases', { page, limit, filters: { state: state || undefined } }),
  revoke: (leaseId: string, reason?: string) => api.post<unknown>('/license/revoke', { lease_id: leaseId, reason }),
};
