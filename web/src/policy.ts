// Rules the server decides and the screens follow, read once from `GET /health` (public):
// today the window after which a silent bot counts as offline.

import { useEffect, useState } from 'react';
import { healthApi } from './api/endpoints';

export interface Policy {
  offlineAfterMs: number;
}

let loaded: Promise<Policy> | null = null;

function loadPolicy(): Promise<Policy> {
  loaded ??= healthApi.health().then(
    (h) => ({ offlineAfterMs: h.bot_offline_after_ms }),
    (e: unknown) => {
      loaded = null; // asked again by the next screen
      throw e;
    },
  );
  return loaded;
}

/** The server's policy, undefined until it has answered. */
export function usePolicy(): Policy | undefined {
  const [policy, setPolicy] = useState<Policy | undefined>(undefined);
  useEffect(() => {
    let alive = true;
    loadPolicy().then(
      (p) => alive && setPolicy(p),
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, []);
  return policy;
}
