// For orders the server cannot compute (a bot's worst resource state): take
// the server-filtered collection and sort and page it here, answering like a
// server page.

import { useEffect, useRef } from 'react';
import type { ListPage } from '../../api/lists';
import { useListTable, type TableModel, type TableState } from './useListTable';

export interface LocalListOptions<T> {
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

export function localPage<T>(all: T[], state: TableState, opts: LocalListOptions<T> = {}): ListPage<T> {
  let rows = all;
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

export interface LocalTableOptions<T> extends LocalListOptions<T> {
  rowKey: (row: T) => string;
  /** Whether a row stays for the search text (lower case) and the filters. */
  matches: (row: T, q: string, filters: Record<string, string>) => boolean;
  filterKeys?: readonly string[];
  defaultLimit?: number;
}

/**
 * A collection the page already holds whole (polled by the page) in the list layout: search,
 * filters, sort and page in the URL as with a server list. Until `rows` first arrives the
 * table stays loading; each new `rows` re-renders it quietly.
 */
export function useLocalListTable<T>(rows: T[] | undefined, opts: LocalTableOptions<T>): TableModel<T> {
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const table = useListTable<T>({
    load: (s) => {
      const all = rowsRef.current;
      if (all === undefined) return new Promise<never>(() => {});
      const q = s.q.toLowerCase();
      return Promise.resolve(localPage(all.filter((r) => opts.matches(r, q, s.filters)), s, opts));
    },
    rowKey: opts.rowKey,
    filterKeys: opts.filterKeys,
    defaultLimit: opts.defaultLimit,
  });
  const { revalidate } = table;
  useEffect(() => revalidate(), [rows, revalidate]);
  return table;
}
