// The list query shared by bots, resources, workspace and finance
// (api-domains.md §1.8): page, limit (1–200), sort (dotted paths allowed),
// order, q (nested values too) and our field filters (docs/api.md, "List
// filters"); `meta.total` is the count after search and filters.

import { apiRequest } from './client';

export type SortOrder = 'asc' | 'desc';

export interface ListQuery {
  page: number;
  limit: number;
  sort?: string;
  order?: SortOrder;
  q?: string;
  /** `?<field>=a,b` and `filter.<path>`, `from`/`to`; undefined values are left out. */
  filters?: Record<string, string | undefined>;
}

export interface ListPage<T> {
  items: T[];
  total: number;
}

/** The server's largest page (lists and the audit log's cursor pages alike). */
export const MAX_LIMIT = 200;

function queryString(q: Partial<ListQuery>): string {
  const p = new URLSearchParams();
  if (q.page) p.set('page', String(q.page));
  if (q.limit) p.set('limit', String(q.limit));
  if (q.sort) {
    p.set('sort', q.sort);
    p.set('order', q.order ?? 'asc');
  }
  const search = q.q?.trim();
  if (search) p.set('q', search);
  for (const [k, v] of Object.entries(q.filters ?? {})) if (v !== undefined) p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}

function totalOf(meta: unknown, fallback: number): number {
  if (meta && typeof meta === 'object' && typeof (meta as { total?: unknown }).total === 'number') {
    return (meta as { total: number }).total;
  }
  return fallback;
}

/** One page as the server pages, sorts and searches it. */
export async function fetchListPage<T>(path: string, query: ListQuery, signal?: AbortSignal): Promise<ListPage<T>> {
  const r = await apiRequest<T[]>('GET', path + queryString(query), { signal });
  const items = Array.isArray(r.data) ? r.data : [];
  return { items, total: totalOf(r.meta, items.length) };
}

/**
 * Every item (pages of 200 until `meta.total`), for views that need the whole
 * (filtered) collection: aggregates and sorts the server cannot do.
 * `until` stops early once a page's last item no longer qualifies (sorted lists).
 */
export async function fetchAll<T>(
  path: string,
  query: Omit<Partial<ListQuery>, 'page' | 'limit'> = {},
  until?: (last: T) => boolean,
): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const r = await fetchListPage<T>(path, { ...query, page, limit: MAX_LIMIT });
    out.push(...r.items);
    const last = r.items[r.items.length - 1];
    if (r.items.length < MAX_LIMIT || out.length >= r.total || (last !== undefined && until?.(last))) return out;
  }
}
