// Whether the server's disk is full: set by any answer with STORAGE_FULL (507) or by a
// readiness answer whose `storage` check fails, cleared by a write that succeeds or a
// readiness answer whose storage check passes. The app shell shows a banner while it is set.

import { useSyncExternalStore } from 'react';

let full = false;
const listeners = new Set<() => void>();

export function setStorageFull(value: boolean): void {
  if (value === full) return;
  full = value;
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useStorageFull(): boolean {
  return useSyncExternalStore(subscribe, () => full);
}
