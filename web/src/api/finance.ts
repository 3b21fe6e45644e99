// Finance (api-domains.md §7, docs/api.md): operations and the daily stats the server
// computes in SQL, over the browser's local days and, when asked, one project.

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

/** Income, expenses and their difference in one currency. */
export interface Money {
  total_expenses: number;
  total_revenue: number;
  net_profit: number;
}

/** One local day of `GET /finance/daily-stats`; the top-level figures are USD only. */
export interface DayStats extends Money {
  date: string;
  by_currency: Record<string, Money>;
  active_bots: number;
  total_farmed: Record<string, { gold: number }>;
}

/** One project's figures over a period of `GET /finance/breakdown`. */
export interface ProjectTotals {
  by_currency: Record<string, Money>;
  /** The gold amount of its sales. */
  gold_sold: number;
  /** Mean sale price ($ per 1000 g) over the period; null without priced sales. */
  gold_price: number | null;
  /** The same mean per local day that has one. */
  gold_price_by_day: Record<string, number>;
}

/** A period per project ('' for operations without one) and its expenses per currency and category. */
export interface Breakdown {
  by_project: Record<string, ProjectTotals>;
  /** Gold sold and the mean sale price over every project of the view. */
  gold_sold: number;
  gold_price: number | null;
  expenses_by_category: Record<string, Record<string, number>>;
}

const OPS = '/finance/operations';

/** The stats routes' query: inclusive local days, the browser's offset, and a project if given. */
function periodQuery(from: string, to: string, project?: string): string {
  const q = new URLSearchParams({ from, to, tz_offset_minutes: String(tzOffsetMinutes()) });
  if (project !== undefined) q.set('project_id', project);
  return q.toString();
}

export const financeApi = {
  page: (q: ListQuery) => fetchListPage<Operation>(OPS, q),
  all: (q: Omit<Partial<ListQuery>, 'page' | 'limit'> = {}) => fetchAll<Operation>(OPS, q),
  create: (body: Partial<Operation>) => api.post<Operation>(OPS, body),
  patch: (id: string, body: Partial<Operation>) => api.patch<Operation>(`${OPS}/${encodeURIComponent(id)}`, body),
  remove: (id: string) => api.delete<{ id: string; deleted: boolean }>(`${OPS}/${encodeURIComponent(id)}`),
  /**
   * Days with operations between two inclusive local `YYYY-MM-DD` dates, keyed by date; of
   * one project when `project` is given ('' for operations without one).
   */
  dailyStats: (from: string, to: string, project?: string) =>
    api.get<Record<string, DayStats>>(`/finance/daily-stats?${periodQuery(from, to, project)}`),
  /** The period between two inclusive local dates per project and expense category; same narrowing. */
  breakdown: (from: string, to: string, project?: string) =>
    api.get<Breakdown>(`/finance/breakdown?${periodQuery(from, to, project)}`),
};

/** Local time minus UTC now, in minutes: the server counts days where the user lives. */
export const tzOffsetMinutes = () => -new Date().getTimezoneOffset();

/** `YYYY-MM-DD` of an epoch-ms time in local time, the day the stats above count in. */
export function localDay(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
