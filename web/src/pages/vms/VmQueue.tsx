// The VM queue pane: template, "+ VM", "Delete VM", "Start all", "Clear", and a row per queued
// VM with its storage, project, resources, unattend profile, playbook and state (editable while
// queued); a delete row shows only its VM and state. A done VM's setup progress is shown under
// the table.

import { lazy, Suspense, useMemo, useState, type ReactNode } from 'react';
import { App, Button, InputNumber, Popover, Select, Table, Tag, Tooltip } from 'antd';
import { CloseOutlined, EditOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { errorMessage } from '../../api/client';
import type { Playbook } from '../../api/playbooks';
import type { UnattendProfile } from '../../api/provisioning';
import { IconAction } from '../../components/crud/cells';
import { S } from '../../strings';
import { LIMITS, resourcesOf, type ProjectResources, type Resources } from './projectResources';
import SetupProgress from './SetupProgress';
import { mostFree, usage, type Storage } from './storages';
import { AUTO_STORAGE, CUSTOM_PROJECT, DEFAULT_PLAYBOOK, NO_PLAYBOOK, type ItemState, type QueueItem, type useQueue } from './useQueue';
import type { Vm } from '../../api/vmops';

const DeleteVmsDialog = lazy(() => import('./DeleteVmsDialog'));

const T = S.vms;
const STATE_COLOR: Record<ItemState, string> = {
  queued: 'default',
  cloning: 'processing',
  deleting: 'processing',
  starting: 'processing',
  done: 'success',
  running: 'green',
  error: 'error',
};

const resourcesText = (r: Resources) => T.resourcesText(r.cores, Math.round(r.memoryMb / 1024), r.diskGb);

function storageLabel(s: Storage) {
  const u = usage(s);
  return u ? `${s.id} · ${T.storageUsage(u.pct, u.used, u.total)}` : s.id;
}

function ResourcesEditor({ value, onChange }: { value: Resources; onChange: (r: Resources) => void }) {
  const field = (label: string, v: number, [min, max]: readonly [number, number], set: (n: number) => Resources) => (
    <label className="bm-vm-resfield">
      <span>{label}</span>
      <InputNumber size="small" min={min} max={max} value={v} aria-label={label} onChange={(n) => typeof n === 'number' && onChange(set(n))} />
    </label>
  );
  const V = S.vms.vmSettings;
  return (
    <div className="bm-vm-reseditor">
      {field(V.cores, value.cores, LIMITS.cores, (n) => ({ ...value, cores: n }))}
      {field(V.ramGiB, Math.round(value.memoryMb / 1024), LIMITS.ramGiB, (n) => ({ ...value, memoryMb: n * 1024 }))}
      {field(V.diskGiB, value.diskGb, LIMITS.diskGiB, (n) => ({ ...value, diskGb: n }))}
    </div>
  );
}

/** A create-only column: empty on delete rows. */
const createOnly = (render: (i: QueueItem) => ReactNode) => (_: unknown, i: QueueItem) => (i.kind === 'create' ? render(i) : null);

export default function VmQueue({ queue, vms, templates, template, onTemplate, storages, projects, profiles, playbooks }: {
  queue: ReturnType<typeof useQueue>;
  vms: readonly Vm[] | null;
  templates: Vm[];
  template: number | undefined;
  onTemplate: (vmid: number) => void;
  storages: Storage[];
  projects: ProjectResources | undefined;
  profiles: UnattendProfile[];
  playbooks: Playbook[];
}) {
  const { message } = App.useApp();
  const [deleting, setDeleting] = useState(false);
  const queuedDeletes = useMemo(
    () => new Set(queue.items.filter((i) => i.kind === 'delete' && i.state !== 'done').map((i) => i.vmid)),
    [queue.items],
  );
  const add = () => queue.add().catch((e: unknown) => message.error(errorMessage(e)));
  const startAll = async () => {
    const [ok, all] = await queue.startAll();
    message.info(T.startedAll(ok, all));
  };
  const best = mostFree(storages);
  const defaultProfile = profiles.find((p) => p.is_default);
  const columns: ColumnsType<QueueItem> = [
    { key: 'name', title: T.colQueueVm, width: 110, render: (_, i) => (i.kind === 'delete' ? T.deleteRow(i.name, i.vmid) : i.name) },
    { key: 'vmid', title: T.colQueueId, dataIndex: 'vmid', width: 60 },
    {
      key: 'storage',
      title: T.colStorage,
      width: 150,
      render: createOnly((i) => (
        <Select
          size="small"
          className="bm-vm-cell"
          aria-label={`${T.colStorage} ${i.name}`}
          disabled={i.state !== 'queued'}
          value={i.storage}
          onChange={(storage) => queue.update(i.key, { storage })}
          popupMatchSelectWidth={false}
          options={[
            { value: AUTO_STORAGE, label: best ? `${T.storageAuto}: ${best}` : T.storageAuto },
            ...storages.map((s) => ({ value: s.id, label: storageLabel(s) })),
          ]}
        />
      )),
    },
    {
      key: 'project',
      title: T.colProject,
      width: 140,
      render: createOnly((i) => (
        <Select
          size="small"
          className="bm-vm-cell"
          aria-label={`${T.colProject} ${i.name}`}
          disabled={i.state !== 'queued'}
          value={i.project}
          popupMatchSelectWidth={false}
          onChange={(project) =>
            queue.update(i.key, { project, resources: project === CUSTOM_PROJECT ? i.resources : resourcesOf(projects, project) })
          }
          options={[
            ...(projects?.projects ?? []).map((p) => ({
              value: p.id,
              label: `${p.name ?? p.id} (${resourcesText(resourcesOf(projects, p.id))})`,
            })),
            { value: CUSTOM_PROJECT, label: T.customResources },
          ]}
        />
      )),
    },
    {
      key: 'resources',
      title: T.colResources,
      width: 150,
      render: createOnly((i) => (
        <span className="bm-vm-res" data-testid={`queue-resources-${i.name}`}>
          {resourcesText(i.resources)}
          {i.project === CUSTOM_PROJECT && i.state === 'queued' ? (
            <Popover trigger="click" content={<ResourcesEditor value={i.resources} onChange={(resources) => queue.update(i.key, { resources })} />}>
              <Button size="small" type="link" icon={<EditOutlined />} aria-label={`${T.colResources} ${i.name}`} />
            </Popover>
          ) : null}
        </span>
      )),
    },
    {
      key: 'unattend',
      title: T.colUnattend,
      width: 130,
      render: createOnly((i) => (
        <Select
          size="small"
          className="bm-vm-cell"
          aria-label={`${T.colUnattend} ${i.name}`}
          disabled={i.state !== 'queued'}
          value={i.profileId}
          popupMatchSelectWidth={false}
          onChange={(profileId) => queue.update(i.key, { profileId })}
          options={[
            { value: '', label: defaultProfile ? `${T.profileDefault} (${defaultProfile.name})` : T.profileDefault },
            ...profiles.map((p) => ({ value: p.id, label: p.name })),
          ]}
        />
      )),
    },
    {
      key: 'playbook',
      title: T.colPlaybook,
      width: 130,
      render: createOnly((i) => (
        <Select
          size="small"
          className="bm-vm-cell"
          aria-label={`${T.colPlaybook} ${i.name}`}
          disabled={i.state !== 'queued'}
          value={i.playbookId}
          popupMatchSelectWidth={false}
          onChange={(playbookId) => queue.update(i.key, { playbookId })}
          options={[
            { value: DEFAULT_PLAYBOOK, label: T.playbookDefault },
            { value: NO_PLAYBOOK, label: T.playbookNone },
            ...playbooks.map((p) => ({ value: p.id, label: p.name })),
          ]}
        />
      )),
    },
    {
      key: 'state',
      title: T.colState,
      width: 110,
      render: (_, i) => {
        const tag = <Tag color={STATE_COLOR[i.state]} data-testid={`queue-state-${i.name}`}>{T.itemState[i.state]}</Tag>;
        return i.error ? <Tooltip title={i.error}>{tag}</Tooltip> : tag;
      },
    },
    {
      key: 'remove',
      width: 40,
      render: (_, i) =>
        i.state === 'queued' || i.state === 'error' || i.state === 'done' ? (
          <IconAction title={T.remove} icon={<CloseOutlined />} onClick={() => queue.remove(i.key)} />
        ) : null,
    },
  ];
  const withProgress = queue.items.filter((i) => i.vmUuid);
  return (
    <section className="bm-vm-pane" aria-label={T.queue}>
      <div className="bm-vm-panebar">
        <span className="bm-vm-panetitle">{T.queue}</span>
        <span className="bm-grow" />
        <Button size="small" type="primary" onClick={() => void startAll()} disabled={!queue.counts.startable || queue.processing}>{T.startAll}</Button>
        <Button size="small" danger onClick={() => setDeleting(true)}>{T.deleteVm}</Button>
        <Button size="small" onClick={() => void add()}>{T.addVm}</Button>
        <Button size="small" onClick={queue.clear} disabled={!queue.items.length}>{T.clear}</Button>
      </div>
      <div className="bm-vm-panebar">
        <span>{T.templateLabel}</span>
        <Select<number>
          size="small"
          className="bm-vm-template"
          aria-label={T.templateLabel}
          placeholder={templates.length ? T.templatePlaceholder : T.noTemplate}
          value={template}
          onChange={onTemplate}
          options={templates.map((t) => ({ value: t.vmid, label: `${t.vmid} · ${t.name ?? ''}` }))}
        />
      </div>
      <Table<QueueItem>
        size="small"
        rowKey="key"
        columns={columns}
        dataSource={queue.items}
        pagination={false}
        scroll={{ x: 1020 }}
        locale={{ emptyText: T.queueEmpty }}
        data-testid="vm-queue"
      />
      {withProgress.length ? (
        // Below the table, not in it: the table scrolls sideways, the steppers should not.
        <div className="bm-vm-setups" aria-label={T.setupProgress}>
          {withProgress.map((i) => (
            <div key={i.key} className="bm-vm-setuprow">
              <span className="bm-vm-setupname">{i.name}</span>
              <SetupProgress vmUuid={i.vmUuid as string} />
            </div>
          ))}
        </div>
      ) : null}
      {deleting ? (
        <Suspense fallback={null}>
          <DeleteVmsDialog vms={vms} queued={queuedDeletes} onAdd={queue.addDeletes} onClose={() => setDeleting(false)} />
        </Suspense>
      ) : null}
    </section>
  );
}
