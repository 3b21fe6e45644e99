// Finance (api-domains.md §7, docs/api.md): operations, daily stats per
// currency, gold price history. Stats take inclusive `from`/`to` (YYYY-MM-DD).

import { api } from '../../api/client';
import { fetchAll, fetchListPage, type ListQuery } from '../../api/lists';

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

export interface Money {
  total_expenses: number;
  total_revenue: number;
  net_profit: number;
}

export interface DayStats extends Money {
  date: string;
  by_currency: Record<string, Money>;
  active_bots: number;
  total_farmed: Record<string, { gold: number }>;
}

const OPS = '/finance/operations';
const range = (from: string, to: string) => `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

export const financeApi = {
  page: (q: ListQuery) => fetchListPage<Operation>(OPS, q),
  all: (q: Omit<Partial<ListQuery>, 'page' | 'limit'> = {}) => fetchAll<Operation>(OPS, q),
  create: (body: Partial<Operation>) => api.post<Operation>(OPS, body),
  patch: (id: string, body: Partial<Operation>) => api.patch<Operation>(`${OPS}/${encodeURIComponent(id)}`, body),
  remove: (id: string) => api.delete<{ id: string; deleted: boolean }>(`${OPS}/${encodeURIComponent(id)}`),
  dailyStats: (from: string, to: string) => api.get<Record<string, DayStats>>('/finance/daily-stats' + range(from, to)),
  goldPrices: (from: string, to: string) =>
    api.get<Record<string, { price: number }>>('/finance/gold-price-history' + range(from, to)),
};
