// The whole collection of one resource kind, polled (web-ui.md §1.6: 7 s),
// for the stat cards, the filter options and the overview.

import { useCallback } from 'react';
import { projectSettingsApi } from '../api/projects';
import { usePolling } from '../hooks';

export const RESOURCE_POLL_MS = 7_000;

export function useAllOf<T>(all: () => Promise<T[]>, pollMs = RESOURCE_POLL_MS) {
  const load = useCallback(() => all(), [all]);
  return usePolling(load, pollMs);
}

/** settings/alerts warning_days (undefined until loaded). */
export function useWarningDays() {
  const load = useCallback(() => projectSettingsApi.warningDays(), []);
  return usePolling(load, 60_000).data;
}
