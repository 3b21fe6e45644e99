// The VM queue (web-ui.md §2.7 "VM QUEUE", "Processing"): page memory only. Processing clones
// each queued item from the template (clone + wait for its task), one at a time; "Stop" lets
// the item in progress finish and leaves the rest queued. "Start all" starts the done ones.

import { useRef, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import { runTask } from '../../api/vmops';
import type { Computer } from './computers';
import type { Vm } from './VmTable';

export type ItemState = 'queued' | 'cloning' | 'done' | 'starting' | 'running' | 'error';

export interface QueueItem {
  key: number;
  name: string;
  vmid: number;
  state: ItemState;
  error?: string;
}

const FIRST_VMID = 100;

export function useQueue(computer: Computer | undefined, vms: readonly Vm[] | null) {
  const [items, setItems] = useState<QueueItem[]>([]);
  const [processing, setProcessing] = useState(false);
  const [stopping, setStopping] = useState(false);
  const stopRef = useRef(false);
  const keyRef = useRef(0);
  const itemsRef = useRef(items);
  itemsRef.current = items;

  const patch = (key: number, p: Partial<QueueItem>) =>
    setItems((list) => list.map((i) => (i.key === key ? { ...i, ...p } : i)));

  /** A generated name and the next VMID unused in Proxmox and in the queue. */
  const add = async () => {
    const taken = new Set([...(vms ?? []).map((v) => v.name ?? ''), ...itemsRef.current.map((i) => i.name)]);
    const { names } = await api.get<{ names: string[] }>('/wow-names?batches=3');
    const name = names.find((n) => !taken.has(n)) ?? `WoW${itemsRef.current.length + 1}`;
    const ids = [...(vms ?? []).map((v) => v.vmid), ...itemsRef.current.map((i) => i.vmid)];
    const vmid = Math.max(FIRST_VMID, ...ids) + 1;
    setItems((list) => [...list, { key: ++keyRef.current, name, vmid, state: 'queued' }]);
  };

  const remove = (key: number) => setItems((list) => list.filter((i) => i.key !== key));
  const clear = () => setItems((list) => list.filter((i) => i.state === 'cloning' || i.state === 'starting'));

  const process = async (templateId: number) => {
    if (!computer || processing) return;
    stopRef.current = false;
    setProcessing(true);
    for (;;) {
      const next = itemsRef.current.find((i) => i.state === 'queued');
      if (!next || stopRef.current) break;
      patch(next.key, { state: 'cloning', error: undefined });
      itemsRef.current = itemsRef.current.map((i) => (i.key === next.key ? { ...i, state: 'cloning' } : i));
      try {
        await runTask(computer.agent.id, 'clone', {
          target: computer.target.id,
          vmid: templateId,
          newid: next.vmid,
          name: next.name,
          full: true,
        });
        patch(next.key, { state: 'done' });
      } catch (e) {
        patch(next.key, { state: 'error', error: errorMessage(e) });
      }
    }
    setProcessing(false);
    setStopping(false);
  };

  const stop = () => {
    stopRef.current = true;
    if (processing) setStopping(true);
  };

  /** Starts every done VM; resolves with [started, tried]. */
  const startAll = async (): Promise<[number, number]> => {
    if (!computer) return [0, 0];
    const done = itemsRef.current.filter((i) => i.state === 'done');
    let ok = 0;
    await Promise.all(
      done.map(async (i) => {
        patch(i.key, { state: 'starting' });
        try {
          await runTask(computer.agent.id, 'start', { target: computer.target.id, vmid: i.vmid });
          patch(i.key, { state: 'running' });
          ok += 1;
        } catch (e) {
          patch(i.key, { state: 'error', error: errorMessage(e) });
        }
      }),
    );
    return [ok, done.length];
  };

  const count = (...s: ItemState[]) => items.filter((i) => s.includes(i.state)).length;
  return {
    items,
    processing,
    stopping,
    add,
    remove,
    clear,
    process,
    stop,
    startAll,
    counts: {
      queue: items.length,
      pending: count('queued'),
      active: count('cloning', 'starting'),
      done: count('done', 'running'),
      errors: count('error'),
    },
  };
}
