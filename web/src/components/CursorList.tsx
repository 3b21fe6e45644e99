// Lists the API pages by cursor (`?limit&before` → `{items, next_before}`, newest first:
// the audit log, the notification deliveries). There is no total, so they are "load
// older" lists rather than numbered pages.

import { useCallback, useEffect, useState } from 'react';
import { Button } from 'antd';
import { api } from '../api/client';

export interface CursorPage<T> {
  items: T[];
  next_before?: number | null;
}

export interface CursorList<T> {
  items: T[];
  /** The cursor of the next (older) page; null on the last page, undefined before the first answer. */
  next: number | null | undefined;
  loading: boolean;
  error: unknown;
  /** Loads the newest page again, dropping older pages already shown. */
  reload: () => void;
  loadOlder: () => void;
}

/** `reloadKey`: changing it loads the newest page again (a page's Refresh). */
export function useCursorList<T>(path: string, limit: number, reloadKey = 0): CursorList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(undefined);

  const fetchPage = useCallback(
    async (before: number | null) => {
      setLoading(true);
      setError(undefined);
      try {
        const q = `?limit=${limit}` + (before !== null ? `&before=${before}` : '');
        const page = await api.get<CursorPage<T>>(path + q);
        setItems((prev) => (before === null ? page.items : [...prev, ...page.items]));
        setNext(page.next_before ?? null);
      } catch (e) {
        setError(e);
      } finally {
        setLoading(false);
      }
    },
    [path, limit],
  );

  useEffect(() => {
    void fetchPage(null);
  }, [fetchPage, reloadKey]);

  return {
    items,
    next,
    loading,
    error,
    reload: () => void fetchPage(null),
    loadOlder: () => {
      if (next) void fetchPage(next);
    },
  };
}

/** The footer under a cursor list: "load older", or a note that the oldest entry is shown. */
export function LoadOlder<T>({ list, more, end }: { list: CursorList<T>; more: string; end: string }) {
  return (
    <div className="bm-audit-more">
      {list.next ? (
        <Button onClick={list.loadOlder} loading={list.loading}>
          {more}
        </Button>
      ) : list.items.length > 0 && list.next === null ? (
        <span className="bm-muted">{end}</span>
      ) : null}
    </div>
  );
}
