// Agents (`/agents`, api-ops.md §1): live state, pairing, revoke with a reason.
// The server has no agent event stream, so the list is polled (3 s): a new agent shows up
// online without a reload.

import { useState } from 'react';
import { App, Button, Input, Modal, Tag, Tooltip } from 'antd';
import { ApiOutlined, PlusOutlined, StopOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { errorMessage } from '../../api/client';
import { agentsApi, type Agent } from '../../api/agents';
import { useSession } from '../../api/session';
import { FilterBar, IconAction, ListTable, PageHeader, useLocalListTable } from '../../components/crud';
import { formatDateTime } from '../../format';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import PairDialog from './PairDialog';
import './agents.css';

const T = S.agents;
const POLL_MS = 3_000;

export type AgentState = keyof typeof T.state;

export function agentState(a: Agent): AgentState {
  if (a.status === 'revoked') return 'revoked';
  if (a.status === 'pending') return 'pending';
  return a.online ? 'online' : 'offline';
}

export const AGENT_STATE_COLOR: Record<AgentState, string> = {
  online: 'success',
  offline: 'default',
  pending: 'processing',
  revoked: 'error',
};

export function AgentStateTag({ agent }: { agent: Agent }) {
  const s = agentState(agent);
  return <Tag color={AGENT_STATE_COLOR[s]} data-testid={`agent-state-${agent.id}`}>{T.state[s].toUpperCase()}</Tag>;
}

export default function AgentsPage() {
  const { message } = App.useApp();
  const session = useSession();
  const privileged = session?.user.roles.some((r) => r === 'admin' || r === 'infra') ?? false;
  const agents = usePolling(agentsApi.list, POLL_MS);
  const [pairing, setPairing] = useState(false);
  const [revoking, setRevoking] = useState<Agent | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);

  const list = agents.data ?? [];
  const table = useLocalListTable<Agent>(agents.data, {
    rowKey: (a) => a.id,
    filterKeys: ['state'],
    matches: (a, q, f) =>
      (!f.state || agentState(a) === f.state) &&
      (!q || [a.name, a.platform, a.version].some((v) => v?.toLowerCase().includes(q))),
  });
  const count = (s: AgentState) => list.filter((a) => agentState(a) === s).length;

  const revoke = async () => {
    if (!revoking) return;
    setBusy(true);
    try {
      await agentsApi.revoke(revoking.id, reason.trim());
      message.success(T.revoked(revoking.name));
      setRevoking(null);
      agents.refresh();
    } catch (e) {
      message.error(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const columns: ColumnsType<Agent> = [
    { key: 'name', title: T.colName, sorter: true, render: (_, a) => a.name },
    {
      key: 'state',
      title: T.colState,
      render: (_, a) =>
        a.revoke_reason ? <Tooltip title={T.revokedBecause(a.revoke_reason)}><span><AgentStateTag agent={a} /></span></Tooltip> : <AgentStateTag agent={a} />,
    },
    { key: 'version', title: T.colVersion, render: (_, a) => a.version ?? '—' },
    { key: 'platform', title: T.colPlatform, render: (_, a) => a.platform ?? '—' },
    { key: 'last_seen_at', title: T.colLastSeen, sorter: true, render: (_, a) => formatDateTime(a.last_seen_at) || '—' },
    { key: 'paired_at', title: T.colPaired, sorter: true, render: (_, a) => formatDateTime(a.paired_at) || '—' },
    {
      key: 'actions',
      title: T.colActions,
      width: 90,
      render: (_, a) =>
        privileged && a.status !== 'revoked' ? (
          <IconAction title={T.revoke} icon={<StopOutlined />} danger onClick={() => (setReason(''), setRevoking(a))} testId={`revoke-${a.id}`} />
        ) : null,
    },
  ];

  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader
          id="agents"
          icon={<ApiOutlined />}
          title={T.title}
          subtitle={T.subtitle}
          actions={<Button type="primary" icon={<PlusOutlined />} onClick={() => setPairing(true)}>{T.pair}</Button>}
          statsLoading={!agents.data}
          stats={[
            { label: T.state.online, value: count('online'), tone: 'success', testId: 'agents-online' },
            { label: T.state.offline, value: count('offline'), tone: 'muted' },
            { label: T.state.pending, value: count('pending'), tone: 'info' },
            { label: T.state.revoked, value: count('revoked'), tone: 'danger' },
          ]}
        />
        <FilterBar
          table={table}
          placeholder={T.search}
          selects={[
            {
              key: 'state',
              label: T.colState,
              options: (Object.keys(T.state) as AgentState[]).map((s) => ({ value: s, label: T.state[s] })),
            },
          ]}
        />
        <ListTable
          table={{ ...table, error: agents.error && !agents.data ? agents.error : table.error, refresh: agents.refresh }}
          columns={columns}
          noun={T.noun}
          emptyText={T.empty}
          emptyAction={<Button icon={<PlusOutlined />} onClick={() => setPairing(true)}>{T.pairFirst}</Button>}
          testId="agents-table"
        />
        <PairDialog open={pairing} agents={list} onClose={() => setPairing(false)} onCreated={agents.refresh} />
        <Modal
          open={revoking !== null}
          title={revoking ? T.revokeTitle(revoking.name) : ''}
          okText={T.revoke}
          okButtonProps={{ danger: true, loading: busy }}
          onOk={revoke}
          onCancel={() => setRevoking(null)}
          destroyOnHidden
        >
          <p>{T.revokeText}</p>
          <Input.TextArea aria-label={T.revokeReason} placeholder={T.revokeReasonPlaceholder} maxLength={500} rows={3}
            value={reason} onChange={(e) => setReason(e.target.value)} />
        </Modal>
      </div>
    </div>
  );
}
