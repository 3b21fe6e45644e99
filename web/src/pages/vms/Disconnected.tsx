// What the VM panes show while no agent can reach Proxmox: the pane stays in its place, marked
// disconnected, and says why and what to do next (pair an agent, one click away).

import { Link } from 'react-router';
import { Button, Empty, Space, Tag } from 'antd';
import { DisconnectOutlined } from '@ant-design/icons';
import { S } from '../../strings';
import PairAgentButton from '../agents/PairAgentButton';

const D = S.vms.noComputer;

/** Why there is no computer: no agent at all, none online, or an online one without targets. */
export type NoComputer = 'no-agent' | 'offline' | 'no-target';

export function reasonText(reason: NoComputer): string {
  return reason === 'no-agent' ? D.noAgent : reason === 'offline' ? D.offline : D.noTarget;
}

/** The next steps: pair an agent (the dialog opens here) and the Agents page. */
export function NextSteps({ onPaired }: { onPaired?: () => void }) {
  return (
    <Space wrap>
      <PairAgentButton type="primary" size="small" onPaired={onPaired} />
      <Link to="/agents">
        <Button size="small">{S.vms.toAgents}</Button>
      </Link>
    </Space>
  );
}

export default function DisconnectedPane({
  title,
  what,
  reason,
  testId,
  onPaired,
}: {
  title: string;
  /** What this pane would hold, e.g. "The VMs of the chosen Proxmox computer". */
  what: string;
  reason: NoComputer;
  testId: string;
  onPaired?: () => void;
}) {
  return (
    <section className="bm-vm-pane is-disconnected" aria-label={title} data-testid={testId}>
      <div className="bm-vm-panebar">
        <span className="bm-vm-panetitle">{title}</span>
        <Tag color="error" icon={<DisconnectOutlined />}>{D.tag}</Tag>
      </div>
      <Empty
        image={Empty.PRESENTED_IMAGE_SIMPLE}
        description={
          <>
            <div>{what}</div>
            <div className="bm-muted">{reasonText(reason)}</div>
          </>
        }
      >
        <NextSteps onPaired={onPaired} />
      </Empty>
    </section>
  );
}
