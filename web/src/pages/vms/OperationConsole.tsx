// The operation console (web-ui.md §2.7): every command of the agent with start/end time,
// status and progress, kept current from the event stream (history from
// `GET /vm-ops/commands` once). Reads (list, status, …) are hidden unless asked for: the page
// issues them all the time and they would bury the changes. The Task Viewer shows a command's record and its log: the
// transitions this page saw on the stream, or, for older ones, the record's own timestamps.

import { useCallback, useEffect, useMemo, useState } from 'react';
import { App, Button, Descriptions, Modal, Progress, Switch, Table, Tag } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { errorMessage } from '../../api/client';
import { vmOpsApi, type Command, type CommandEvent, type CommandStatus } from '../../api/vmops';
import { CopyButton } from '../../components/crud/cells';
import { formatDateTime, formatTime } from '../../format';
import { S } from '../../strings';

const T = S.vms;
const MAX_ROWS = 200;

export const STATUS_COLOR: Record<CommandStatus, string> = {
  queued: 'default',
  dispatched: 'processing',
  running: 'processing',
  succeeded: 'success',
  failed: 'error',
  expired: 'warning',
  cancelled: 'default',
};

interface LogLine {
  at: number;
  level: 'INFO' | 'WARN' | 'ERROR';
  text: string;
}

/** "clone 100 → 104 Vorek", "start 104", "list". */
export function describe(c: Command): string {
  const p = c.payload;
  const action = c.command_type.replace(/^proxmox\./, '');
  const parts = [action];
  if (p.vmid !== undefined) parts.push(String(p.vmid));
  if (p.newid !== undefined) parts.push(`→ ${p.newid}`);
  if (typeof p.name === 'string') parts.push(p.name);
  return parts.join(' ');
}

function lineOf(e: CommandEvent): LogLine {
  const c = e.command;
  const at = Date.parse(e.server_time) || Date.now();
  if (e.event_type === 'command.queued') return { at, level: 'INFO', text: T.logQueued };
  if (c.status === 'failed' || c.status === 'expired') return { at, level: 'ERROR', text: `${T.logStatus(c.status)}: ${c.error_message ?? ''}` };
  if (c.status === 'running' && (c.progress !== null || c.progress_message)) return { at, level: 'INFO', text: T.logProgress(c.progress, c.progress_message) };
  if (c.status === 'queued' && c.retry_count) return { at, level: 'WARN', text: T.logRetry(c.retry_count) };
  return { at, level: 'INFO', text: T.logStatus(c.status) };
}

/** The log of a command this page did not see live, from its timestamps. */
function recordLog(c: Command): LogLine[] {
  const out: LogLine[] = [{ at: Date.parse(c.queued_at), level: 'INFO', text: T.logQueued }];
  if (c.started_at) out.push({ at: Date.parse(c.started_at), level: 'INFO', text: T.logStatus('running') });
  if (c.progress !== null || c.progress_message) out.push({ at: Date.parse(c.updated_at), level: 'INFO', text: T.logProgress(c.progress, c.progress_message) });
  if (c.completed_at) {
    const bad = c.status === 'failed' || c.status === 'expired';
    out.push({ at: Date.parse(c.completed_at), level: bad ? 'ERROR' : 'INFO', text: `${T.logStatus(c.status)}${c.error_message ? `: ${c.error_message}` : ''}` });
  }
  return out;
}

const logText = (lines: LogLine[]) => lines.map((l) => `${formatTime(l.at)} ${l.level} ${l.text}`).join('\n');

/** The console as text (Copy, Ctrl+L): a line per task, newest first. */
export const consoleText = (rows: Command[]) =>
  rows.map((c) => [formatDateTime(c.started_at ?? c.queued_at), formatDateTime(c.completed_at) || '—', T.status[c.status], describe(c)].join('  ')).join('\n');

export function useConsole(agentId: string | undefined) {
  const [rows, setRows] = useState<Command[]>([]);
  const [logs, setLogs] = useState<Record<string, LogLine[]>>({});

  useEffect(() => {
    setRows([]);
    setLogs({});
    if (!agentId) return;
    let alive = true;
    vmOpsApi.list(agentId).then(
      (list) => alive && setRows((live) => [...live, ...list.filter((c) => !live.some((l) => l.id === c.id))]),
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, [agentId]);

  const onEvent = useCallback(
    (e: CommandEvent) => {
      const c = e.command;
      if (c.agent_id !== agentId) return;
      setRows((list) => [c, ...list.filter((x) => x.id !== c.id)].slice(0, MAX_ROWS));
      setLogs((all) => ({ ...all, [c.id]: [...(all[c.id] ?? []), lineOf(e)] }));
    },
    [agentId],
  );
  const [showReads, setShowReads] = useState(false);
  const shown = useMemo(() => (showReads ? rows : rows.filter((c) => !c.read_only)), [rows, showReads]);
  return {
    /** The tasks on screen (what Copy copies). */
    rows: shown,
    hiddenReads: rows.length - shown.length,
    showReads,
    setShowReads,
    logs,
    onEvent,
    clear: () => (setRows([]), setLogs({})),
  };
}

function TaskViewer({ id, live, onClose }: { id: string; live: LogLine[] | undefined; onClose: () => void }) {
  const { message, modal } = App.useApp();
  const [c, setC] = useState<Command | null>(null);
  useEffect(() => {
    vmOpsApi.get(id).then(setC, (e: unknown) => message.error(errorMessage(e)));
  }, [id, message, live?.length]);
  const lines = live?.length ? live : c ? recordLog(c) : [];
  const cancel = () =>
    modal.confirm({
      title: T.cancelTask,
      content: T.cancelTaskConfirm,
      onOk: () => vmOpsApi.cancel(id).then(setC, (e: unknown) => message.error(errorMessage(e))),
    });
  const open = c && (c.status === 'queued' || c.status === 'dispatched');
  return (
    <Modal open title={T.viewer} onCancel={onClose} width={820} data-testid="task-viewer"
      footer={[
        open ? <Button key="cancel" danger onClick={cancel}>{T.cancelTask}</Button> : null,
        <CopyButton key="copy" text={logText(lines)} label={T.copyLog} />,
        <Button key="ok" type="primary" onClick={onClose}>{T.ok}</Button>,
      ]}>
      {c ? (
        <Descriptions size="small" column={2} bordered>
          <Descriptions.Item label={T.colDescription} span={2}>{describe(c)}</Descriptions.Item>
          <Descriptions.Item label={T.colStatus}><Tag color={STATUS_COLOR[c.status]}>{T.status[c.status]}</Tag></Descriptions.Item>
          <Descriptions.Item label={T.viewerNode}>{String(c.payload.node ?? c.payload.target ?? '—')}</Descriptions.Item>
          <Descriptions.Item label={T.colStart}>{formatDateTime(c.started_at ?? c.queued_at)}</Descriptions.Item>
          <Descriptions.Item label={T.colEnd}>{formatDateTime(c.completed_at) || '—'}</Descriptions.Item>
          <Descriptions.Item label={T.viewerPayload} span={2}><pre className="bm-vm-pre">{JSON.stringify(c.payload, null, 2)}</pre></Descriptions.Item>
          {c.result !== null ? (
            <Descriptions.Item label={T.viewerResult} span={2}><pre className="bm-vm-pre">{JSON.stringify(c.result, null, 2)}</pre></Descriptions.Item>
          ) : null}
        </Descriptions>
      ) : null}
      <div className="bm-vm-log" role="log" aria-label={T.viewerLog} data-testid="task-log">
        {lines.map((l, i) => (
          <div key={i} className={`bm-vm-logline is-${l.level.toLowerCase()}`}>
            <span className="bm-muted">{formatTime(l.at)}</span> {l.level !== 'INFO' ? <b>{l.level} </b> : null}{l.text}
          </div>
        ))}
      </div>
    </Modal>
  );
}

export default function OperationConsole({ console: con }: { console: ReturnType<typeof useConsole> }) {
  const [open, setOpen] = useState<string | null>(null);
  const columns: ColumnsType<Command> = [
    { key: 'start', title: T.colStart, width: 150, render: (_, c) => formatDateTime(c.started_at ?? c.queued_at) },
    { key: 'end', title: T.colEnd, width: 150, render: (_, c) => formatDateTime(c.completed_at) },
    {
      key: 'description',
      title: T.colDescription,
      render: (_, c) => (
        <Button type="link" size="small" className="bm-vm-desc" onClick={() => setOpen(c.id)} data-testid={`task-${c.id}`}>
          {describe(c)}
        </Button>
      ),
    },
    {
      key: 'progress',
      title: T.colProgress,
      width: 120,
      render: (_, c) => (c.progress !== null ? <Progress aria-label={T.colProgress} percent={c.progress} size="small" /> : null),
    },
    { key: 'status', title: T.colStatus, width: 110, render: (_, c) => <Tag color={STATUS_COLOR[c.status]}>{T.status[c.status]}</Tag> },
  ];
  return (
    <section className="bm-vm-console" aria-label={T.console}>
      <div className="bm-vm-panebar">
        <span className="bm-vm-panetitle">{T.console}</span>
        <span className="bm-muted">
          {T.tasks(con.rows.length)} {con.hiddenReads ? T.readsHidden(con.hiddenReads) : null}
        </span>
        <span className="bm-grow" />
        <label className="bm-muted">
          <Switch size="small" checked={con.showReads} onChange={con.setShowReads} aria-label={T.showReads} /> {T.showReads}
        </label>
        <CopyButton text={consoleText(con.rows)} label={T.copyLog} toast={T.consoleCopied} />
        <Button size="small" onClick={con.clear}>{T.clear}</Button>
      </div>
      <Table<Command>
        size="small"
        rowKey="id"
        columns={columns}
        dataSource={con.rows}
        pagination={{ defaultPageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: T.noTasks }}
        data-testid="vm-console"
      />
      <div className="bm-muted bm-vm-hint">{T.consoleHint}</div>
      {open ? <TaskViewer id={open} live={con.logs[open]} onClose={() => setOpen(null)} /> : null}
    </section>
  );
}
