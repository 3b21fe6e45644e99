import { useCallback, useEffect, useRef, useState } from 'react';
import { authApi } from './api/endpoints';

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
  const alive = useRef(true);

  const run = useCallback(() => {
    if (inFlight.current) return;
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
