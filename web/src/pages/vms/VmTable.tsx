// The VMs of the chosen computer (web-ui.md §2.7 "VM list"), read with `proxmox.list` and
// reloaded when a command that changes VMs finishes on its agent (never polled); row actions
// run through the queue and wait for their Proxmox task.

import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { App, Button, Table, Tag } from 'antd';
import {
  DeleteOutlined,
  PauseCircleOutlined,
  PlayCircleOutlined,
  PoweroffOutlined,
  ReloadOutlined,
  SettingOutlined,
  UndoOutlined,
} from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { errorMessage } from '../../api/client';
import { isTerminal, runCommand, runTask, type CommandEvent, type StreamState, type Vm } from '../../api/vmops';
import { IconAction } from '../../components/crud/cells';
import { formatUptime } from '../../format';
import { S } from '../../strings';
import type { Computer } from './computers';
import ConfigDialog from './ConfigDialog';

const T = S.vms;

type PowerAction = 'start' | 'stop' | 'shutdown' | 'reset' | 'delete';

/** Finished commands after which the list may differ. */
const CHANGES_VMS = /\.(clone|delete|start|stop|shutdown|reset|update-config|config\.update|wait-task)$/;
const RELOAD_DEBOUNCE_MS = 500;

const STATUS_COLOR: Record<string, string> = { running: 'success', stopped: 'default', paused: 'warning' };

export function useVmList(computer: Computer | undefined) {
  const [vms, setVms] = useState<Vm[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const agentId = computer?.agent.id;
  const target = computer?.target.id;
  const seq = useRef(0);

  const reload = useCallback(() => {
    if (!agentId || !target) return;
    const mine = ++seq.current;
    setLoading(true);
    runCommand<Vm[]>(agentId, 'list', { target }).then(
      (list) => {
        if (mine !== seq.current) return;
        setVms([...list].sort((a, b) => a.vmid - b.vmid));
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== seq.current) return;
        setError(errorMessage(e));
        setLoading(false);
      },
    );
  }, [agentId, target]);

  useEffect(() => {
    setVms(null);
    reload();
  }, [reload]);

  const timer = useRef(0);
  const onEvent = useCallback(
    (e: CommandEvent) => {
      const c = e.command;
      if (c.agent_id !== agentId || !isTerminal(c.status) || !CHANGES_VMS.test(c.command_type)) return;
      window.clearTimeout(timer.current);
      timer.current = window.setTimeout(reload, RELOAD_DEBOUNCE_MS);
    },
    [agentId, reload],
  );
  useEffect(() => () => window.clearTimeout(timer.current), []);

  return { vms, error, loading, reload, onEvent };
}

export default function VmTable({ computer, list, stream }: {
  computer: Computer;
  list: ReturnType<typeof useVmList>;
  stream: StreamState;
}) {
  const { message, modal } = App.useApp();
  const [busy, setBusy] = useState<Record<number, boolean>>({});
  const [editing, setEditing] = useState<Vm | null>(null);
  const rows = list.vms ?? [];
  const running = rows.filter((v) => v.status === 'running').length;

  const act = (vm: Vm, action: PowerAction) => {
    const label = T.action[action];
    const run = async () => {
      setBusy((b) => ({ ...b, [vm.vmid]: true }));
      try {
        await runTask(computer.agent.id, action, { target: computer.target.id, vmid: vm.vmid, ...(action === 'delete' ? { purge: true } : {}) });
        message.success(T.actionDone(label, vm.vmid));
      } catch (e) {
        message.error(`${label} VM ${vm.vmid}: ${errorMessage(e)}`);
      } finally {
        setBusy((b) => ({ ...b, [vm.vmid]: false }));
      }
    };
    if (action === 'start') return void run();
    modal.confirm({
      title: T.confirm(label, vm.vmid),
      content: action === 'delete' ? T.deleteText : undefined,
      okText: label,
      okButtonProps: { danger: action !== 'shutdown' },
      onOk: () => void run(),
    });
  };

  const columns: ColumnsType<Vm> = [
    { key: 'vmid', title: T.colVmid, dataIndex: 'vmid', width: 90, sorter: (a, b) => a.vmid - b.vmid, defaultSortOrder: 'ascend' },
    {
      key: 'name',
      title: T.colName,
      render: (_, v) => (
        <>
          {v.name ?? ''} {v.template ? <Tag>{T.template}</Tag> : null}
        </>
      ),
      sorter: (a, b) => (a.name ?? '').localeCompare(b.name ?? ''),
    },
    {
      key: 'status',
      title: T.colStatus,
      width: 110,
      filters: ['running', 'stopped', 'paused'].map((s) => ({ text: s, value: s })),
      onFilter: (value, v) => v.status === value,
      render: (_, v) => <Tag color={STATUS_COLOR[v.status] ?? 'default'} data-testid={`vm-status-${v.vmid}`}>{v.status.toUpperCase()}</Tag>,
    },
    { key: 'uptime', title: T.colUptime, width: 100, render: (_, v) => (v.status === 'running' ? formatUptime(v.uptime) : '') },
    {
      key: 'actions',
      title: T.colActions,
      width: 190,
      render: (_, v) => {
        const on = v.status === 'running';
        const b = busy[v.vmid];
        const a = (action: PowerAction, icon: ReactNode, danger = false) => (
          <IconAction key={action} title={T.action[action]} icon={icon} danger={danger} disabled={b} onClick={() => act(v, action)} testId={`vm-${action}-${v.vmid}`} />
        );
        if (v.template) return null;
        return (
          <span className="bm-vm-actions">
            {on ? [a('shutdown', <PoweroffOutlined />), a('stop', <PauseCircleOutlined />), a('reset', <UndoOutlined />)] : a('start', <PlayCircleOutlined />)}
            <IconAction title={T.action.config} icon={<SettingOutlined />} disabled={b} onClick={() => setEditing(v)} testId={`vm-config-${v.vmid}`} />
            {a('delete', <DeleteOutlined />, true)}
          </span>
        );
      },
    },
  ];

  return (
    <section className="bm-vm-pane" aria-label={S.tree.vms}>
      <div className="bm-vm-panebar">
        <span><span className="bm-dot bm-dot-ok" />{T.running(running)}</span>
        <span><span className="bm-dot" />{T.stopped(rows.length - running)}</span>
        <span>{T.total(rows.length)}</span>
        {stream === 'down' ? <Tag color="error">{T.disconnected}</Tag> : stream === 'connecting' ? <Tag>{T.connecting}</Tag> : null}
        <span className="bm-grow" />
        <Button size="small" icon={<ReloadOutlined />} onClick={list.reload} loading={list.loading}>{T.refresh}</Button>
      </div>
      {list.error ? <div className="bm-vm-error" role="alert">{list.error}</div> : null}
      <Table<Vm>
        size="small"
        rowKey="vmid"
        columns={columns}
        dataSource={rows}
        loading={list.vms === null && list.loading}
        pagination={{ defaultPageSize: 50, pageSizeOptions: [25, 50, 100], showSizeChanger: true, hideOnSinglePage: true }}
        locale={{ emptyText: T.noVms }}
        data-testid="vm-table"
      />
      {editing ? <ConfigDialog computer={computer} vm={editing} onClose={() => setEditing(null)} /> : null}
    </section>
  );
}
