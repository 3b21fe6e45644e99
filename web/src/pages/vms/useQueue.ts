// The VM queue (web-ui.md §2.7 "VM QUEUE", "Processing"): page memory only. Processing first
// runs the queued deletes (stop the VM unless it is stopped, then delete it, each waiting for
// its Proxmox task), then clones each queued create from the template onto its storage (clone
// + wait for its task), applies the project's CPU and RAM, and reads the clone's SMBIOS UUID
// (for its setup progress), one at a time; "Stop" lets the item in progress finish and leaves
// the rest queued. "Start all" starts the done creates. The config ISO (unattend + playbook)
// needs the VM's IP, which the queue does not know, so that step is skipped, as the reference
// does without UUID/IP.

import { useRef, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import { runCommand, runTask } from '../../api/vmops';
import type { Computer } from './computers';
import { DEFAULT_RESOURCES, type Resources } from './projectResources';
import { mostFree, type Storage } from './storages';
import type { Vm } from '../../api/vmops';

export type ItemState = 'queued' | 'cloning' | 'deleting' | 'done' | 'starting' | 'running' | 'error';

export const AUTO_STORAGE = 'auto';
export const CUSTOM_PROJECT = 'custom';
/** PLAYBOOK column: the caller's default playbook, or none. */
export const DEFAULT_PLAYBOOK = '*';
export const NO_PLAYBOOK = 'none';

export interface QueueItem {
  key: number;
  /** A delete row removes an existing VM; its other columns do not apply. */
  kind: 'create' | 'delete';
  name: string;
  vmid: number;
  state: ItemState;
  error?: string;
  /** A storage id or AUTO_STORAGE. */
  storage: string;
  /** A project id or CUSTOM_PROJECT. */
  project: string;
  resources: Resources;
  /** '' = the default profile. */
  profileId: string;
  playbookId: string;
  /** The clone's SMBIOS UUID, once done (when Proxmox has one). */
  vmUuid?: string;
}

/** Defaults of a new row: the first project and its resources. */
export interface QueueDefaults {
  project: string;
  resources: Resources;
  /** The storage of settings/vmgenerator/clone; AUTO_STORAGE when unset. */
  storage?: string;
}

/** `uuid=…` of a Proxmox `smbios1` value. */
const smbiosUuid = (smbios: unknown) =>
  typeof smbios === 'string' ? /(?:^|,)uuid=([0-9a-f-]{36})/i.exec(smbios)?.[1]?.toLowerCase() : undefined;

const FIRST_VMID = 100;
/** States of a row being worked on: not removable, not cleared. */
const BUSY: readonly ItemState[] = ['cloning', 'deleting', 'starting'];

/** The first hard disk of a VM config and its size in GB (`scsi0: local:vm-1-disk-0,size=32G`). */
function bootDisk(config: Record<string, unknown>): { key: string; gb: number } | undefined {
  const UNIT: Record<string, number> = { K: 1 / 1024 ** 2, M: 1 / 1024, G: 1, T: 1024 };
  for (const [key, v] of Object.entries(config).sort(([a], [b]) => a.localeCompare(b))) {
    if (!/^(scsi|virtio|sata|ide)\d+$/.test(key) || typeof v !== 'string' || v.includes('media=cdrom')) continue;
    const m = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT])/.exec(v);
    return { key, gb: m ? Number(m[1]) * (UNIT[m[2] ?? 'G'] ?? 1) : 0 };
  }
  return undefined;
}

export function useQueue(
  computer: Computer | undefined,
  vms: readonly Vm[] | null,
  storages: Storage[],
  defaults: QueueDefaults = { project: CUSTOM_PROJECT, resources: DEFAULT_RESOURCES },
) {
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
    setItems((list) => [
      ...list,
      {
        key: ++keyRef.current,
        kind: 'create',
        name,
        vmid,
        state: 'queued',
        storage: defaults.storage ?? AUTO_STORAGE,
        project: defaults.project,
        resources: defaults.resources,
        profileId: '',
        playbookId: DEFAULT_PLAYBOOK,
      },
    ]);
  };

  /** Queues deletes of existing VMs, skipping those already queued. */
  const addDeletes = (list: readonly Vm[]) =>
    setItems((items) => [
      ...items,
      ...list
        .filter((v) => !items.some((i) => i.kind === 'delete' && i.vmid === v.vmid))
        .map((v): QueueItem => ({
          ...defaults,
          key: ++keyRef.current,
          kind: 'delete',
          name: v.name ?? '',
          vmid: v.vmid,
          state: 'queued',
          storage: AUTO_STORAGE,
          profileId: '',
          playbookId: NO_PLAYBOOK,
        })),
    ]);

  /** Edits a row while it is still queued. */
  const update = (key: number, p: Partial<QueueItem>) =>
    setItems((list) => list.map((i) => (i.key === key && i.state === 'queued' ? { ...i, ...p } : i)));

  const remove = (key: number) => setItems((list) => list.filter((i) => i.key !== key));
  const clear = () => setItems((list) => list.filter((i) => BUSY.includes(i.state)));

  /** Marks the next queued row of a kind as `state`, in the ref too (the loop reads it). */
  const takeNext = (kind: QueueItem['kind'], state: ItemState) => {
    const next = itemsRef.current.find((i) => i.kind === kind && i.state === 'queued');
    if (!next || stopRef.current) return undefined;
    patch(next.key, { state, error: undefined });
    itemsRef.current = itemsRef.current.map((i) => (i.key === next.key ? { ...i, state } : i));
    return next;
  };

  /** Deletes, then (with a template) creates. */
  const process = async (templateId: number | undefined) => {
    if (!computer || processing) return;
    stopRef.current = false;
    setProcessing(true);
    const agent = computer.agent.id;
    const scope = { target: computer.target.id };
    for (let next; (next = takeNext('delete', 'deleting')); ) {
      try {
        // The server may answer a status read from one up to 10 s old: the list, updated on
        // every finished start/stop, is asked too.
        const { status } = await runCommand<{ status?: string }>(agent, 'vm-status', { ...scope, vmid: next.vmid });
        const listed = vms?.find((v) => v.vmid === next.vmid)?.status;
        if (status !== 'stopped' || (listed && listed !== 'stopped')) await runTask(agent, 'stop', { ...scope, vmid: next.vmid });
        await runTask(agent, 'delete', { ...scope, vmid: next.vmid, purge: true });
        patch(next.key, { state: 'done' });
      } catch (e) {
        patch(next.key, { state: 'error', error: errorMessage(e) });
      }
    }
    if (templateId !== undefined) await processCreates(agent, scope, templateId);
    setProcessing(false);
    setStopping(false);
  };

  const processCreates = async (agent: string, scope: { target: string }, templateId: number) => {
    const templateConfig = await runCommand<Record<string, unknown>>(agent, 'get-config', { ...scope, vmid: templateId }).catch(() => ({}));
    for (let next; (next = takeNext('create', 'cloning')); ) {
      const storage = next.storage === AUTO_STORAGE ? mostFree(storages) : next.storage;
      try {
        await runTask(agent, 'clone', {
          ...scope,
          vmid: templateId,
          newid: next.vmid,
          name: next.name,
          full: true,
          ...(storage ? { storage } : {}),
        });
        const { cores, memoryMb, diskGb } = next.resources;
        await runTask(agent, 'update-config', { ...scope, vmid: next.vmid, config: { cores, memory: memoryMb } });
        // A full clone has the template's disks. Proxmox only grows disks: a smaller profile
        // leaves the template's size.
        const disk = bootDisk(templateConfig);
        if (disk && disk.gb < diskGb) await runTask(agent, 'resize-disk', { ...scope, vmid: next.vmid, disk: disk.key, size: `${diskGb}G` });
        // Read last, so it reflects every change (the server reuses a read for 10 s).
        const config = await runCommand<Record<string, unknown>>(agent, 'get-config', { ...scope, vmid: next.vmid });
        patch(next.key, { state: 'done', vmUuid: smbiosUuid(config?.smbios1) });
      } catch (e) {
        patch(next.key, { state: 'error', error: errorMessage(e) });
      }
    }
  };

  const stop = () => {
    stopRef.current = true;
    if (processing) setStopping(true);
  };

  /** Starts every done VM; resolves with [started, tried]. */
  const startAll = async (): Promise<[number, number]> => {
    if (!computer) return [0, 0];
    const done = itemsRef.current.filter((i) => i.kind === 'create' && i.state === 'done');
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
  const pendingCreates = items.filter((i) => i.kind === 'create' && i.state === 'queued').length;
  const startable = items.filter((i) => i.kind === 'create' && i.state === 'done').length;
  return {
    items,
    processing,
    stopping,
    add,
    addDeletes,
    update,
    remove,
    clear,
    process,
    stop,
    startAll,
    counts: {
      queue: items.length,
      pending: count('queued'),
      pendingCreates,
      startable,
      active: count(...BUSY),
      done: count('done', 'running'),
      errors: count('error'),
    },
  };
}
