// Where new VMs come from (web-ui.md §2.7 "Proxmox" tab): the clone source VM and the storage,
// in `settings/vmgenerator/clone`. The queue starts from them; both can be changed per run.

import { useCallback, useEffect, useState } from 'react';
import { api } from '../../api/client';
import { AUTO_STORAGE } from './useQueue';

export interface CloneSettings {
  /** null clears a stored one (a settings write merges, so a missing key would keep it). */
  source_vmid?: number | null;
  /** A storage id, or AUTO_STORAGE: the one with most free space. */
  storage: string;
}

const PATH = '/settings/vmgenerator/clone';

export function useCloneSettings() {
  const [data, setData] = useState<CloneSettings | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(
    () =>
      api.get<Partial<CloneSettings> | null>(PATH).then(
        (c) => {
          setData({ source_vmid: typeof c?.source_vmid === 'number' ? c.source_vmid : undefined, storage: c?.storage || AUTO_STORAGE });
          setError(null);
        },
        (e: unknown) => setError(e),
      ),
    [],
  );
  useEffect(() => void load(), [load]);
  const save = async (c: CloneSettings) => {
    await api.put(PATH, c);
    await load();
  };
  return { data, error, save };
}
