// State and data of a paged list (api-domains.md §1.8): page, limit, sort,
// order, search and page-specific filters live in the URL, so a view can be
// bookmarked, shared and walked with Back; the loader turns them into a page.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { MAX_LIMIT, type ListPage, type SortOrder } from '../../api/lists';
import { useChanges } from '../../hooks';

export interface TableState {
  page: number;
  limit: number;
  sort?: string;
  order?: SortOrder;
  q: string;
  /** Page-specific filters (e.g. status), '' when unset. */
  filters: Record<string, string>;
}

export interface ListTableOptions<T> {
  load: (state: TableState) => Promise<ListPage<T>>;
  rowKey: (row: T) => string;
  defaultLimit?: number;
  defaultSort?: { sort: string; order: SortOrder };
  filterKeys?: readonly string[];
  /** Background refresh while the tab is visible (web-ui.md §1.6). */
  pollMs?: number;
  /** Change-feed topics (`bots`, …) that refresh the page quietly; pollMs is then the fallback. */
  topics?: readonly string[];
  /** Prefix of the URL parameters, for a second list on the same page. */
  paramPrefix?: string;
}

export interface TableModel<T> {
  state: TableState;
  data: ListPage<T> | undefined;
  /** True while a load the user asked for runs (background polls stay quiet). */
  loading: boolean;
  error: unknown;
  refresh: () => void;
  /** Reloads without the loading state: for data that changed in the background. */
  revalidate: () => void;
  setPage: (page: number, limit?: number) => void;
  setSort: (sort: string | undefined, order?: SortOrder) => void;
  setSearch: (q: string) => void;
  setFilter: (key: string, value: string | undefined) => void;
  reset: () => void;
  /** Whether search or a filter narrows the list. */
  narrowed: boolean;
  rowKey: (row: T) => string;
  selected: string[];
  setSelected: (keys: string[]) => void;
  selectedRows: T[];
}

export function useListTable<T>(opts: ListTableOptions<T>): TableModel<T> {
  const { defaultLimit = 15, defaultSort, filterKeys = [], pollMs, paramPrefix = '' } = opts;
  const [params, setParams] = useSearchParams();
  const key = (k: string) => paramPrefix + k;

  // Rebuilt from the URL on every render; the JSON key keeps its identity
  // stable until a part actually changes.
  const read = (k: string) => params.get(key(k));
  const num = (k: string, d: number) => {
    const n = Number(read(k));
    return Number.isInteger(n) && n > 0 ? n : d;
  };
  const sortParam = read('sort');
  const orderParam = read('order');
  const filters: Record<string, string> = {};
  for (const k of filterKeys) filters[k] = read(k) ?? '';
  const stateKey = JSON.stringify({
    page: num('page', 1),
    limit: Math.min(MAX_LIMIT, num('limit', defaultLimit)),
    // '-' = the user turned the default sort off.
    sort: sortParam === '-' ? undefined : (sortParam ?? defaultSort?.sort),
    order: orderParam === 'asc' || orderParam === 'desc' ? orderParam : sortParam ? 'asc' : defaultSort?.order,
    q: read('q') ?? '',
    filters,
  } satisfies TableState);
  const state = useMemo(() => JSON.parse(stateKey) as TableState, [stateKey]);

  const update = useCallback(
    (changes: Record<string, string | undefined>, keepPage = false) => {
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(changes)) {
            if (v === undefined || v === '') next.delete(paramPrefix + k);
            else next.set(paramPrefix + k, v);
          }
          if (!keepPage) next.delete(paramPrefix + 'page');
          return next;
        },
        { replace: true },
      );
    },
    [setParams, paramPrefix],
  );

  const [data, setData] = useState<ListPage<T> | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  // Selected rows by key, kept across pages so bulk actions see them all.
  const [selection, setSelection] = useState<Map<string, T>>(() => new Map());
  const loadRef = useRef(opts.load);
  loadRef.current = opts.load;
  const seq = useRef(0);

  const run = useCallback(
    (quiet: boolean) => {
      const mine = ++seq.current;
      if (!quiet) setLoading(true);
      loadRef.current(state).then(
        (d) => {
          if (mine !== seq.current) return;
          setData(d);
          setError(undefined);
          setLoading(false);
        },
        (e: unknown) => {
          if (mine !== seq.current) return;
          setError(e);
          setLoading(false);
        },
      );
    },
    [state],
  );

  useEffect(() => run(false), [run]);
  useChanges(opts.topics ?? [], () => run(true));

  useEffect(() => {
    if (!pollMs) return;
    const tick = () => {
      if (document.visibilityState === 'visible') run(true);
    };
    const timer = window.setInterval(tick, pollMs);
    return () => window.clearInterval(timer);
  }, [run, pollMs]);

  // A page past the end (after deletes) falls back to the last page.
  useEffect(() => {
    if (data && data.items.length === 0 && data.total > 0 && state.page > 1) {
      update({ page: String(Math.max(1, Math.ceil(data.total / state.limit))) }, true);
    }
  }, [data, state.page, state.limit, update]);

  const rowKey = opts.rowKey;
  const selected = useMemo(() => [...selection.keys()], [selection]);
  const selectedRows = useMemo(() => [...selection.values()], [selection]);
  const setSelected = useCallback(
    (keys: string[]) =>
      setSelection((prev) => {
        const onPage = new Map((data?.items ?? []).map((r) => [rowKey(r), r] as const));
        const next = new Map<string, T>();
        for (const k of keys) {
          const row = onPage.get(k) ?? prev.get(k);
          if (row !== undefined) next.set(k, row);
        }
        return next;
      }),
    [data, rowKey],
  );

  return {
    state,
    data,
    loading,
    error,
    refresh: useCallback(() => run(false), [run]),
    revalidate: useCallback(() => run(true), [run]),
    setPage: (page, limit) =>
      update({ page: page > 1 ? String(page) : undefined, limit: limit && limit !== defaultLimit ? String(limit) : undefined }, true),
    setSort: (sort, order) =>
      update(
        sort ? { sort, order: order ?? 'asc' } : { sort: defaultSort ? '-' : undefined, order: undefined },
      ),
    setSearch: (q) => update({ q: q.trim() || undefined }),
    setFilter: (k, v) => update({ [k]: v || undefined }),
    reset: () => {
      const cleared: Record<string, undefined> = { q: undefined, sort: undefined, order: undefined };
      for (const k of filterKeys) cleared[k] = undefined;
      update(cleared);
    },
    narrowed: state.q !== '' || Object.values(state.filters).some((v) => v !== ''),
    rowKey,
    selected,
    setSelected,
    selectedRows,
  };
}
