// Finance (api-domains.md §7, docs/api.md): operations. The page aggregates
// them itself, since the daily-stats and gold-price routes cannot narrow to a
// project.

import { api } from './client';
import { fetchAll, fetchListPage, type ListQuery } from './lists';

export type OpType = 'income' | 'expense';
export const CURRENCIES = ['USD', 'gold'] as const;
export const INCOME_CATEGORIES = ['sale', 'other'];
export const EXPENSE_CATEGORIES = ['subscription_game', 'proxy', 'bot_license', 'other'];

export interface Operation {
  id: string;
  type: OpType;
  category: string;
  amount: number;
  currency: string;
  /** Epoch ms. */
  date: number;
  description?: string;
  project_id?: string | null;
  bot_id?: string | null;
  gold_amount?: number | null;
  gold_price_at_time?: number | null;
  created_at?: number;
  updated_at?: number;
}

const OPS = '/finance/operations';

export const financeApi = {
  page: (q: ListQuery) => fetchListPage<Operation>(OPS, q),
  all: (q: Omit<Partial<ListQuery>, 'page' | 'limit'> = {}) => fetchAll<Operation>(OPS, q),
  create: (body: Partial<Operation>) => api.post<Operation>(OPS, body),
  patch: (id: string, body: Partial<Operation>) => api.patch<Operation>(`${OPS}/${encodeURIComponent(id)}`, body),
  remove: (id: string) => api.delete<{ id: string; deleted: boolean }>(`${OPS}/${encodeURIComponent(id)}`),
};
