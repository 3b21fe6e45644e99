import { useCallback, useEffect, useRef, useState } from 'react';
import { authApi } from './api/endpoints';
import { concerns, subscribe } from './api/changes';

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Time of the last completed attempt (ms since epoch), 0 before the first. */
  updatedAt: number;
  refresh: () => void;
}

/**
 * Runs `load` now and then every `intervalMs` while the tab is visible
 * (and at once when it becomes visible again). Keeps the last good data
 * when a refresh fails.
 */
export function usePolling<T>(load: () => Promise<T>, intervalMs: number): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [updatedAt, setUpdatedAt] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const inFlight = useRef(false);
  // A refresh asked for while a load runs: that load may predate the change, so run again.
  const again = useRef(false);
  const alive = useRef(true);

  const run = useCallback(function start() {
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    setLoading(true);
    loadRef
      .current()
      .then(
        (d) => {
          if (!alive.current) return;
          setData(d);
          setError(undefined);
        },
        (e: unknown) => {
          if (!alive.current) return;
          setError(e);
        },
      )
      .finally(() => {
        inFlight.current = false;
        if (!alive.current) return;
        setLoading(false);
        setUpdatedAt(Date.now());
        if (again.current) {
          again.current = false;
          start();
        }
      });
  }, []);

  useEffect(() => {
    alive.current = true;
    run();
    const tick = () => {
      if (document.visibilityState === 'visible') run();
    };
    const timer = window.setInterval(tick, intervalMs);
    document.addEventListener('visibilitychange', tick);
    return () => {
      alive.current = false;
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [run, intervalMs]);

  return { data, error, loading, updatedAt, refresh: run };
}

/** How soon after a change a screen reloads: a burst of writes becomes one reload. */
const CHANGE_DEBOUNCE_MS = 1_000;
/** The safety poll of a live screen (a missed event, a clock-driven state such as presence). */
export const LIVE_FALLBACK_MS = 60_000;

/**
 * Calls `onChange` (at most once a second) when the change feed reports a change to one of
 * `topics` (`bots`, `settings/projects`, …), and after a feed reset.
 */
export function useChanges(topics: readonly string[], onChange: () => void): void {
  const callback = useRef(onChange);
  callback.current = onChange;
  const key = topics.join('|');
  useEffect(() => {
    if (!key) return;
    const wanted = key.split('|');
    let timer: number | undefined;
    const stop = subscribe((change) => {
      if (!concerns(change, wanted) || timer !== undefined) return;
      timer = window.setTimeout(() => {
        timer = undefined;
        callback.current();
      }, CHANGE_DEBOUNCE_MS);
    });
    return () => {
      stop();
      window.clearTimeout(timer);
    };
  }, [key]);
}

/**
 * `usePolling` for data the change feed announces: loads now, again when one of `topics`
 * changes, and otherwise only every `fallbackMs` (a revalidation: 304 when unchanged).
 */
export function useLive<T>(load: () => Promise<T>, topics: readonly string[], fallbackMs = LIVE_FALLBACK_MS): Polled<T> {
  const polled = usePolling(load, fallbackMs);
  useChanges(topics, polled.refresh);
  return polled;
}

/**
 * Whether the first admin still has to be created (GET /auth/setup):
 * undefined while asking, then true or false. A failed request counts as
 * false, so the signed-out screens fall back to /login. With `enabled`
 * false it does not ask (and answers false).
 */
export function useSetupNeeded(enabled = true): boolean | undefined {
  const known = !enabled || authApi.setupKnownDone();
  const [needed, setNeeded] = useState<boolean | undefined>(known ? false : undefined);

  useEffect(() => {
    if (known) {
      setNeeded(false);
      return;
    }
    let cancelled = false;
    setNeeded(undefined);
    authApi.setupStatus().then(
      (s) => {
        if (!cancelled) setNeeded(s.needed === true);
      },
      () => {
        if (!cancelled) setNeeded(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [known]);

  return known ? false : needed;
}
