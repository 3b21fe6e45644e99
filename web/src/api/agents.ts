// Agents (api-ops.md §1): list, pairing, revoke.

import { api } from './client';

export type AgentStatus = 'pending' | 'active' | 'offline' | 'revoked';

export interface Agent {
  id: string;
  name: string;
  status: AgentStatus;
  /** Active and heard from within 120 s (computed by the server). */
  online: boolean;
  owner_user_id: string | null;
  version: string | null;
  platform: string | null;
  capabilities: string[];
  last_seen_at: string | null;
  paired_at: string | null;
  revoked_at: string | null;
  revoke_reason?: string | null;
  metadata?: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface Pairing {
  id: string;
  name: string;
  pairing_code: string;
  pairing_expires_at: string;
  pairing_bundle: string;
  pairing_uri: string;
  pairing_url?: string;
  server_url?: string;
}

export const agentsApi = {
  list: () => api.get<Agent[]>('/agents'),
  get: (id: string) => api.get<Agent>(`/agents/${encodeURIComponent(id)}`),
  pair: (body: { name?: string; expires_in_minutes?: number }) => api.post<Pairing>('/agents/pairings', body),
  revoke: (id: string, reason: string) =>
    api.post<Agent>(`/agents/${encodeURIComponent(id)}/revoke`, reason ? { reason } : {}),
};

/** The online agent heard from most recently: the one the VM pages use by default (§1.1). */
export function activeAgent(agents: readonly Agent[]): Agent | undefined {
  return agents
    .filter((a) => a.online)
    .sort((a, b) => Date.parse(b.last_seen_at ?? '') - Date.parse(a.last_seen_at ?? ''))[0];
}
