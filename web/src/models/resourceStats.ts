// The whole collection of one resource kind, polled (web-ui.md §1.6: 7 s),
// for the stat cards, the filter options and the overview.

import { useCallback, useMemo } from 'react';
import { resourcesApi, type ResourceKind } from '../api/resources';
import { useLive, usePolling } from '../hooks';

export const RESOURCE_POLL_MS = 7_000;

export function useAllOf<T>(all: () => Promise<T[]>, pollMs = RESOURCE_POLL_MS) {
  const load = useCallback(() => all(), [all]);
  return usePolling(load, pollMs);
}

/** Days before its expiry at which an item of each kind counts as expiring soon. */
export type ExpiryWindows = Record<ResourceKind, number>;

/** Until the server has answered, nothing counts as expiring soon. */
const NO_WINDOWS: ExpiryWindows = { licenses: 0, proxies: 0, subscriptions: 0 };

/** The server's windows (`GET /resources/summary` `threshold_days`: fixed for licenses and
 * proxies, settings `alerts.warning_days` for subscriptions), so screens never copy them. */
export function useExpiryWindows(): ExpiryWindows {
  const load = useCallback(
    () =>
      resourcesApi.summary().then((s) => ({
        licenses: s.licenses.threshold_days,
        proxies: s.proxies.threshold_days,
        subscriptions: s.subscriptions.threshold_days,
      })),
    [],
  );
  const { licenses, proxies, subscriptions } = useLive(load, ['settings/alerts']).data ?? NO_WINDOWS;
  // The same object while the figures stay, so that screens depending on it do not reload.
  return useMemo(() => ({ licenses, proxies, subscriptions }), [licenses, proxies, subscriptions]);
}
