// Virtual Machines — VM generator (`/vms`, web-ui.md §2.7): status bar, computer strip,
// the VM list, the VM queue and the operation console, all following the server's command
// event stream; "Settings" opens the unattend profile, playbook and resource editors.

import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router';
import { Alert, App, Button, Dropdown, Select, Tag, Tooltip } from 'antd';
import { ExportOutlined, GlobalOutlined, PlayCircleOutlined, SettingOutlined, StopOutlined } from '@ant-design/icons';
import { playbooksApi, type Playbook } from '../../api/playbooks';
import { unattendApi, type UnattendProfile } from '../../api/provisioning';
import { errorMessage } from '../../api/client';
import { openGateway } from '../../api/gateway';
import { useSession } from '../../api/session';
import { useCommandStream, type CommandEvent } from '../../api/vmops';
import { useCopy } from '../../components/crud/cells';
import { S } from '../../strings';
import { AUTO, computerKey, useComputers } from './computers';
import OperationConsole, { consoleText, useConsole } from './OperationConsole';
import { resourcesOf, useProjectResources } from './projectResources';
import { useStorages } from './storages';
import { useCloneSettings } from './cloneSettings';
import { CUSTOM_PROJECT, useQueue } from './useQueue';
import VmQueue from './VmQueue';
import VmTable, { useVmList } from './VmTable';
import DisconnectedPane, { NextSteps, reasonText, type NoComputer } from './Disconnected';
import './vms.css';

const VmSettingsDialog = lazy(() => import('./settings/VmSettingsDialog'));

const SITES = [
  { key: 'proxmox', label: 'Proxmox' },
  { key: 'tinyfm', label: 'TinyFileManager' },
  { key: 'syncthing', label: 'SyncThing' },
];

/** The profiles and playbooks the queue's selects offer; reloaded when the settings close. */
function useProvisioningLists() {
  const [profiles, setProfiles] = useState<UnattendProfile[]>([]);
  const [playbooks, setPlaybooks] = useState<Playbook[]>([]);
  const reload = useCallback(() => {
    unattendApi.list().then(setProfiles, () => setProfiles([]));
    playbooksApi.list().then(setPlaybooks, () => setPlaybooks([]));
  }, []);
  useEffect(reload, [reload]);
  return { profiles, playbooks, reload };
}

const T = S.vms;

function Chip({ label, n, danger }: { label: string; n: number; danger?: boolean }) {
  return <span className={`bm-vm-chip${danger ? ' is-danger' : ''}`} data-testid={`chip-${label.toLowerCase()}`}>{label} {n}</span>;
}

export default function VmsPage() {
  const session = useSession();
  const { message } = App.useApp();
  const copy = useCopy();
  const roles = session?.user.roles ?? [];
  const infra = roles.includes('infra');
  const privileged = infra || roles.includes('admin');
  const computers = useComputers();
  const computer = computers.current;
  const list = useVmList(computer);
  const con = useConsole(computer?.agent.id);
  const storages = useStorages(computer);
  const projects = useProjectResources();
  const lists = useProvisioningLists();
  const [settingsOpen, setSettingsOpen] = useState(false);
  const firstProject = projects.data?.projects[0]?.id;
  const clone = useCloneSettings();
  const queue = useQueue(computer, list.vms, storages.list, {
    project: firstProject ?? CUSTOM_PROJECT,
    resources: resourcesOf(projects.data, firstProject),
    storage: clone.data?.storage,
  });
  const onEvent = useCallback(
    (e: CommandEvent) => {
      list.onEvent(e);
      con.onEvent(e);
    },
    [list, con],
  );
  const stream = useCommandStream(onEvent);

  // Clones fill storages: their usage is read again once a run ends.
  const { refresh: refreshStorages } = storages;
  const wasProcessing = useRef(false);
  useEffect(() => {
    if (wasProcessing.current && !queue.processing) refreshStorages();
    wasProcessing.current = queue.processing;
  }, [queue.processing, refreshStorages]);

  const templates = useMemo(() => (list.vms ?? []).filter((v) => v.template), [list.vms]);
  const [template, setTemplate] = useState<number | undefined>(undefined);
  useEffect(() => {
    // The clone source of the settings when Proxmox has it as a template, else the first one.
    const saved = templates.find((t) => t.vmid === clone.data?.source_vmid);
    if (!templates.some((t) => t.vmid === template)) setTemplate((saved ?? templates[0])?.vmid);
  }, [templates, template, clone.data?.source_vmid]);

  // Deletes need no template; creates do.
  const canStart =
    !!computer && queue.counts.pending > 0 && (template !== undefined || !queue.counts.pendingCreates) && !queue.processing;
  const start = () => canStart && void queue.process(template);

  // Reset (F7 / Ctrl+R): clear the console view, check the connections again, reload VMs and storages.
  const reset = () => {
    con.clear();
    computers.refresh();
    list.reload();
    refreshStorages();
    message.success(T.resetDone);
  };

  // Shortcuts (§2.7), not while typing: F5/Ctrl+S start, F6/Ctrl+E stop, F7/Ctrl+R reset,
  // Ctrl+N add a VM, Ctrl+L copy the console.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      const ctrl = (k: string) => e.ctrlKey && e.key.toLowerCase() === k;
      const act = (f: () => void) => (e.preventDefault(), f());
      if (e.key === 'F5' || ctrl('s')) act(start);
      else if (e.key === 'F6' || ctrl('e')) act(queue.stop);
      else if (e.key === 'F7' || ctrl('r')) act(reset);
      else if (ctrl('l')) act(() => void copy(consoleText(con.rows), T.consoleCopied));
      else if (ctrl('n') && computer) act(() => void queue.add());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const c = queue.counts;
  // Without a computer nothing can run: the badge says so rather than "Ready".
  const noComputer: NoComputer | null =
    computer || !computers.agentsLoaded || computers.loading
      ? null
      : !computers.paired.length
        ? 'no-agent'
        : !computers.online.length
          ? 'offline'
          : 'no-target';
  const badge = noComputer ? 'disconnected' : c.active ? 'working' : c.errors ? 'error' : c.done ? 'success' : 'ready';
  const openProxmox = () => openGateway('proxmox').catch((e: unknown) => message.error(errorMessage(e)));

  return (
    <div className="bm-page bm-vms">
      <div className="bm-vm-bar">
        <Button type="primary" icon={<PlayCircleOutlined />} disabled={!canStart} onClick={start} data-testid="start-processing">{T.startProcessing}</Button>
        <Button icon={<StopOutlined />} disabled={!queue.processing} onClick={queue.stop}>{queue.stopping ? T.stopping : T.stopProcessing}</Button>
        {privileged ? (
          <Button icon={<SettingOutlined />} onClick={() => setSettingsOpen(true)} data-testid="vm-settings">{T.settings}</Button>
        ) : null}
        {infra ? (
          <>
            <Tooltip title={T.openProxmoxHint}>
              <Button icon={<ExportOutlined />} onClick={openProxmox}>{T.openProxmox}</Button>
            </Tooltip>
            <Dropdown trigger={['hover', 'click']} menu={{ items: SITES.map((x) => ({ key: x.key, label: <Link to={`/vms/sites/${x.key}`}>{x.label}</Link> })) }}>
              <Button icon={<GlobalOutlined />}>{T.sites}</Button>
            </Dropdown>
          </>
        ) : null}
        <span className="bm-grow" />
        <Chip label={T.chips.queue} n={c.queue} />
        <Chip label={T.chips.pending} n={c.pending} />
        <Chip label={T.chips.active} n={c.active} />
        <Chip label={T.chips.done} n={c.done} />
        {c.errors ? <Chip label={T.chips.errors} n={c.errors} danger /> : null}
        <Tooltip title={noComputer ? T.noComputer.badge : undefined}>
          <span className={`bm-vm-badge is-${badge}`} data-testid="queue-badge">{T.badge[badge]}</span>
        </Tooltip>
      </div>
      <div className="bm-vm-strip">
        <span className="bm-vm-panetitle">{T.computer}</span>
        <Select
          size="small"
          className="bm-vm-computer"
          aria-label={T.computer}
          value={computers.choice}
          onChange={computers.choose}
          loading={computers.loading}
          options={[
            { value: AUTO, label: T.autoComputer },
            ...computers.options.map((o) => ({
              value: computerKey(o.agent.id, o.target.id),
              label: `${o.agent.name} · ${o.target.label}${o.target.isActive ? T.activeSuffix : ''}`,
            })),
          ]}
        />
        <Button size="small" onClick={computers.refresh} loading={computers.loading}>{T.refreshComputers}</Button>
        {computer && !computer.target.sshConfigured ? <Tag color="warning">{T.sshOff}</Tag> : null}
        {Object.values(computers.errors).map((e) => <Tag key={e} color="error">{e}</Tag>)}
      </div>
      {noComputer ? (
        <Alert
          type="warning"
          showIcon
          className="bm-vm-alert"
          message={reasonText(noComputer)}
          action={<NextSteps onPaired={computers.refresh} />}
          data-testid="vms-no-agent"
        />
      ) : null}
      {noComputer ? (
        <>
          <div className="bm-vm-split">
            <DisconnectedPane title={S.tree.vms} what={T.noComputer.list} reason={noComputer} testId="vm-list-disconnected" onPaired={computers.refresh} />
            <DisconnectedPane title={T.queue} what={T.noComputer.queue} reason={noComputer} testId="vm-queue-disconnected" onPaired={computers.refresh} />
          </div>
          <OperationConsole console={con} />
        </>
      ) : null}
      {computer ? (
        <>
          <div className="bm-vm-split">
            <VmTable computer={computer} list={list} stream={stream} />
            <VmQueue
              queue={queue}
              vms={list.vms}
              templates={templates}
              template={template}
              onTemplate={setTemplate}
              storages={storages.list}
              projects={projects.data}
              profiles={lists.profiles}
              playbooks={lists.playbooks}
            />
          </div>
          <OperationConsole console={con} />
        </>
      ) : null}
      {settingsOpen ? (
        <Suspense fallback={null}>
          <VmSettingsDialog
            open
            onClose={() => {
              setSettingsOpen(false);
              lists.reload();
            }}
            resources={projects}
            computer={computer}
            noComputer={noComputer}
          />
        </Suspense>
      ) : null}
    </div>
  );
}
