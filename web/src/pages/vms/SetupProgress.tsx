// The setup stepper of a done VM (web-ui.md §2.7 Quirks/Rewrite): Windows Installed →
// Downloader Ready → App Downloaded → Running Playbook → Complete, from the VM's progress
// events as the server pushes them. Tags rather than antd Steps: they wrap in the narrow pane.

import { Tag } from 'antd';
import { CheckOutlined, CloseOutlined, LoadingOutlined } from '@ant-design/icons';
import { SETUP_STEPS, useSetupProgress } from '../../api/provisioning';
import { S } from '../../strings';

const T = S.vms;
type StepStatus = 'wait' | 'process' | 'finish' | 'error';

const LOOK: Record<StepStatus, { color: string; icon?: React.ReactNode }> = {
  wait: { color: 'default' },
  process: { color: 'processing', icon: <LoadingOutlined /> },
  finish: { color: 'success', icon: <CheckOutlined /> },
  error: { color: 'error', icon: <CloseOutlined /> },
};

export default function SetupProgress({ vmUuid }: { vmUuid: string }) {
  const events = useSetupProgress(vmUuid);
  const last = new Map(events.map((e) => [e.step, e.status]));
  // A later step reported means the earlier ones are behind it, even if they never said so.
  const reached = SETUP_STEPS.reduce((n, step, i) => (last.has(step) ? i : n), -1);
  const status = (step: string, i: number): StepStatus => {
    const s = last.get(step);
    if (s === 'completed') return 'finish';
    if (s === 'failed') return 'error';
    if (s === 'running' || s === 'pending') return 'process';
    return i < reached ? 'finish' : 'wait';
  };
  return (
    <div className="bm-vm-setup" data-testid={`setup-${vmUuid}`} aria-label={T.setupProgress}>
      {SETUP_STEPS.map((step, i) => {
        const st = status(step, i);
        return (
          <Tag key={step} color={LOOK[st].color} icon={LOOK[st].icon} data-step={step} data-status={st}>
            {T.setupSteps[step]}
          </Tag>
        );
      })}
      {events.length ? null : <span className="bm-vm-setup-wait">{T.setupWaiting}</span>}
    </div>
  );
}
