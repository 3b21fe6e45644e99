// The storages of the chosen computer that can hold VM disks, with their usage, from
// `proxmox.cluster-resources {type: storage}` (web-ui.md §2.7 STORAGE column). The VM count
// per storage the reference showed needs a per-storage content listing the agent has no
// command for, so it is left out.

import { useCallback, useEffect, useState } from 'react';
import { runCommand } from '../../api/vmops';
import type { Computer } from './computers';

export interface Storage {
  id: string;
  /** Bytes; undefined when Proxmox did not say. */
  used?: number;
  total?: number;
}

interface Resource {
  type?: string;
  storage?: string;
  node?: string;
  content?: string;
  status?: string;
  disk?: number;
  maxdisk?: number;
}

export const free = (s: Storage) => (s.total ?? 0) - (s.used ?? 0);

/** "auto": the storage with the most free space, or none (Proxmox keeps the template's). */
export const mostFree = (list: Storage[]): string | undefined =>
  [...list].sort((a, b) => free(b) - free(a))[0]?.id;

const GB = 1024 ** 3;
export const usage = (s: Storage) =>
  s.total ? { pct: ((100 * (s.used ?? 0)) / s.total).toFixed(2), used: ((s.used ?? 0) / GB).toFixed(1), total: (s.total / GB).toFixed(1) } : null;

export function useStorages(computer: Computer | undefined) {
  const [list, setList] = useState<Storage[]>([]);
  const agentId = computer?.agent.id;
  const target = computer?.target.id;
  const node = computer?.target.node;
  const refresh = useCallback(() => {
    if (!agentId) return;
    runCommand<Resource[]>(agentId, 'cluster-resources', { target, type: 'storage' }).then(
      (rows) =>
        setList(
          (Array.isArray(rows) ? rows : [])
            .filter((r) => r.type === 'storage' && r.storage && (!node || !r.node || r.node === node))
            .filter((r) => r.status !== 'unavailable' && (r.content ?? 'images').split(',').includes('images'))
            .map((r) => ({ id: r.storage as string, used: r.disk, total: r.maxdisk })),
        ),
      () => setList([]),
    );
  }, [agentId, target, node]);
  useEffect(refresh, [refresh]);
  return { list, refresh };
}
