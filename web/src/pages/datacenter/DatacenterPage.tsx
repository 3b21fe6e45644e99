// Datacenter (`/datacenter`, web-ui.md §6 "overview across agents and targets"): every
// agent with its state and, for the online ones, the Proxmox computers it reaches
// (`proxmox.list-targets`) with their VMs (`proxmox.list` per target). Without a paired agent
// it says what the page would show and offers the pairing dialog.

import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { Alert, Card, Empty, Table, Tag } from 'antd';
import { ClusterOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { agentsApi, type Agent } from '../../api/agents';
import { errorMessage } from '../../api/client';
import { runCommand } from '../../api/vmops';
import PageHeader from '../../components/crud/PageHeader';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { AgentStateTag } from '../agents/AgentsPage';
import type { Target } from '../../api/vmops';
import { NextSteps } from '../vms/Disconnected';
import type { Vm } from '../../api/vmops';
import './datacenter.css';

const T = S.datacenter;
const AGENTS_POLL_MS = 10_000;

interface TargetRow extends Target {
  vms: Vm[] | null;
  error?: string;
}

type Reach = { targets: TargetRow[]; error?: string };

async function reach(agent: Agent): Promise<Reach> {
  try {
    const targets = await runCommand<Target[]>(agent.id, 'list-targets', {});
    const rows = await Promise.all(
      targets.map((t) =>
        runCommand<Vm[]>(agent.id, 'list', { target: t.id }).then(
          (vms): TargetRow => ({ ...t, vms }),
          (e: unknown): TargetRow => ({ ...t, vms: null, error: errorMessage(e) }),
        ),
      ),
    );
    return { targets: rows };
  } catch (e) {
    return { targets: [], error: errorMessage(e) };
  }
}

const columns: ColumnsType<TargetRow> = [
  { key: 'label', title: T.colTarget, render: (_, t) => t.label },
  { key: 'node', title: T.colNode, dataIndex: 'node' },
  { key: 'url', title: T.colUrl, render: (_, t) => <span className="bm-mono">{t.url}</span> },
  { key: 'ssh', title: T.colSsh, render: (_, t) => <Tag color={t.sshConfigured ? 'success' : 'default'}>{t.sshConfigured ? T.sshYes : T.sshNo}</Tag> },
  {
    key: 'vms',
    title: T.colVms,
    render: (_, t) => {
      if (t.error) return <Tag color="error">{t.error}</Tag>;
      const vms = (t.vms ?? []).filter((v) => !v.template);
      return `${vms.filter((v) => v.status === 'running').length} / ${vms.length}`;
    },
  },
];

export default function DatacenterPage() {
  const agents = usePolling(agentsApi.list, AGENTS_POLL_MS);
  const [reached, setReached] = useState<Record<string, Reach>>({});
  const list = (agents.data ?? []).filter((a) => a.status !== 'revoked' && a.status !== 'pending');
  const onlineIds = list.filter((a) => a.online).map((a) => a.id).join(',');

  useEffect(() => {
    const online = (agents.data ?? []).filter((a) => onlineIds.split(',').includes(a.id));
    void Promise.all(online.map(async (a) => [a.id, await reach(a)] as const)).then((rows) => setReached(Object.fromEntries(rows)));
    // Asked again when the set of online agents changes, not on every poll.
  }, [onlineIds]);

  const allTargets = Object.values(reached).flatMap((r) => r.targets);
  const allVms = allTargets.flatMap((t) => (t.vms ?? []).filter((v) => !v.template));
  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader
          id="datacenter"
          icon={<ClusterOutlined />}
          title={T.title}
          subtitle={T.subtitle}
          statsLoading={!agents.data}
          stats={[
            { label: T.agents, value: list.length },
            { label: T.online, value: list.filter((a) => a.online).length, tone: 'success' },
            { label: T.targets, value: allTargets.length, tone: 'info' },
            { label: T.vms, value: allVms.length },
            { label: T.runningVms, value: allVms.filter((v) => v.status === 'running').length, tone: 'success' },
          ]}
          actions={<Link to="/vms">{T.openVms}</Link>}
        />
        {agents.error && !agents.data ? <Alert type="error" showIcon message={errorMessage(agents.error)} /> : null}
        {agents.data && !list.length ? (
          <Card size="small" className="bm-card" data-testid="dc-empty">
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={<><div>{T.empty}</div><div className="bm-muted">{S.vms.noComputer.noAgent}</div></>}>
              <NextSteps onPaired={agents.refresh} />
            </Empty>
          </Card>
        ) : null}
        <div className="bm-dc-agents">
          {list.map((a) => {
            const r = reached[a.id];
            return (
              <Card key={a.id} size="small" className="bm-card" data-testid={`dc-agent-${a.id}`}
                title={<span className="bm-card-title">{a.name} <AgentStateTag agent={a} /></span>}>
                {!a.online ? (
                  <p className="bm-card-text">{T.offlineAgent}</p>
                ) : r?.error ? (
                  <Alert type="error" showIcon message={T.loadFailed(r.error)} />
                ) : (
                  <Table<TargetRow> size="small" rowKey="id" columns={columns} dataSource={r?.targets ?? []} loading={!r} pagination={false} />
                )}
              </Card>
            );
          })}
        </div>
      </div>
    </div>
  );
}
