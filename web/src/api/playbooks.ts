// Playbooks (api-ops.md §9) and their validation report, whose issues carry a line.

import { api } from './client';

export interface Playbook {
  id: string;
  name: string;
  is_default: boolean;
  content: string;
  created_at: string;
  updated_at: string;
}

export interface PlaybookIssue {
  path?: string;
  message: string;
  /** 1-based. */
  line?: number;
  column?: number;
}

export interface PlaybookReport {
  valid: boolean;
  errors: PlaybookIssue[];
  warnings: { message: string }[];
}

export interface PlaybookBody {
  name?: string;
  is_default?: boolean;
  content?: string;
}

export const playbooksApi = {
  list: () => api.get<Playbook[]>('/playbooks'),
  create: (body: PlaybookBody) => api.post<Playbook>('/playbooks', body),
  update: (id: string, body: PlaybookBody) => api.put<Playbook>(`/playbooks/${encodeURIComponent(id)}`, body),
  remove: (id: string) => api.delete<{ deleted: boolean }>(`/playbooks/${encodeURIComponent(id)}`),
  validate: (content: string) => api.post<PlaybookReport>('/playbooks/validate', { content }),
};
