// For filters the list query cannot express (it has no field filters, and
// its search sees top-level values only): load the whole collection and do
// search, filter, sort and paging here, answering like a server page.

import type { ListPage, ListQuery } from '../../api/lists';
import type { TableState } from './useListTable';

export interface LocalListOptions<T> {
  /** Free-text match of one row (may look into nested fields). */
  match?: (row: T, q: string) => boolean;
  /** The page's filters. */
  keep?: (row: T, filters: Record<string, string>) => boolean;
  /** Sort values by column key; missing keys sort by the top-level field. */
  sortValue?: Record<string, (row: T) => string | number | undefined>;
}

function compare(a: string | number | undefined, b: string | number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Case-insensitive substring search over the given values. */
export function textMatch(q: string, ...values: unknown[]): boolean {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  return values.some((v) => v !== undefined && v !== null && String(v).toLowerCase().includes(needle));
}

export function localPage<T>(all: T[], state: TableState, opts: LocalListOptions<T> = {}): ListPage<T> {
  let rows = all;
  if (state.q && opts.match) rows = rows.filter((r) => opts.match!(r, state.q));
  if (opts.keep) rows = rows.filter((r) => opts.keep!(r, state.filters));
  if (state.sort) {
    const key = state.sort;
    const get =
      opts.sortValue?.[key] ??
      ((r: T) => {
        const v = (r as Record<string, unknown>)[key];
        return typeof v === 'number' || typeof v === 'string' ? v : undefined;
      });
    const dir = state.order === 'desc' ? -1 : 1;
    rows = rows
      .map((r, i) => ({ r, i, v: get(r) }))
      .sort((a, b) => dir * compare(a.v, b.v) || a.i - b.i)
      .map((x) => x.r);
  }
  const start = (state.page - 1) * state.limit;
  return { items: rows.slice(start, start + state.limit), total: rows.length };
}

/**
 * The server pages, sorts and searches; only when one of the page's filters
 * is set (the list query has no field filters) does the whole searched and
 * sorted collection come over for `keep` to narrow here.
 */
export function serverPage<T>(
  state: TableState,
  source: {
    page: (q: ListQuery) => Promise<ListPage<T>>;
    all: (q: Omit<ListQuery, 'page' | 'limit'>) => Promise<T[]>;
    keep?: (row: T, filters: Record<string, string>) => boolean;
  },
): Promise<ListPage<T>> {
  const { page, limit, sort, order, q } = state;
  const filtered = source.keep && Object.values(state.filters).some((v) => v !== '');
  if (!filtered) return source.page({ page, limit, sort, order, q });
  return source.all({ sort, order, q }).then((rows) => localPage(rows, { ...state, q: '', sort: undefined }, { keep: source.keep }));
}
