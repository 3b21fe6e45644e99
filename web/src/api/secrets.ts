// Secrets (api-ops.md §10): metadata, rotation and bindings. The value goes up once, in a
// create or rotate body, and never comes back: `/secrets/{id}/value` is for agents only.

import { api } from './client';

export interface SecretMeta {
  id: string;
  label: string;
  /** `server` (a plain value the vault encrypts) or `client` (an opaque envelope). */
  kind: 'server' | 'client';
  alg: string;
  key_id: string;
  vault_ref: string;
  material_version: number;
  created_by: string;
  rotated_at: string | null;
  created_at: string;
  updated_at: string;
}

export const SCOPE_TYPES = ['agent', 'vm', 'bot', 'tenant'] as const;
export type ScopeType = (typeof SCOPE_TYPES)[number];

export interface SecretBinding {
  id: string;
  scope_type: ScopeType;
  scope_id: string;
  /** The secret's id. */
  secret_ref: string;
  field_name: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface NewBinding {
  scope_type: ScopeType;
  scope_id: string;
  secret_ref: string;
  field_name: string;
}

const one = (id: string) => `/secrets/${encodeURIComponent(id)}`;

export const secretsApi = {
  list: () => api.get<SecretMeta[]>('/secrets'),
  create: (label: string, value: string) => api.post<SecretMeta>('/secrets', { label, value }),
  rotate: (id: string, value: string) => api.post<SecretMeta>(`${one(id)}/rotate`, { value }),
  remove: (id: string) => api.delete<unknown>(one(id)),
  /** Every binding of the tenant, or only those of one secret. */
  bindings: (secretRef?: string) =>
    api.get<SecretBinding[]>('/secrets/bindings' + (secretRef ? `?secret_ref=${encodeURIComponent(secretRef)}` : '')),
  bind: (b: NewBinding) => api.post<SecretBinding>('/secrets/bindings', b),
  unbind: (id: string) => api.delete<unknown>(`/secrets/bindings/${encodeURIComponent(id)}`),
};
