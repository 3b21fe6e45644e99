// The setup stepper of a done VM (web-ui.md §2.7 Quirks/Rewrite): Windows Installed →
// Downloader Ready → App Downloaded → Running Playbook → Complete, from the VM's progress
// events as the server pushes them.

import { Steps } from 'antd';
import { SETUP_STEPS, useSetupProgress } from '../../api/provisioning';
import { S } from '../../strings';

const T = S.vms;
type StepStatus = 'wait' | 'process' | 'finish' | 'error';

export default function SetupProgress({ vmUuid }: { vmUuid: string }) {
  const events = useSetupProgress(vmUuid);
  const last = new Map(events.map((e) => [e.step, e.status]));
  const status = (step: string): StepStatus => {
    const s = last.get(step);
    return s === 'completed' ? 'finish' : s === 'failed' ? 'error' : s === 'running' || s === 'pending' ? 'process' : 'wait';
  };
  // A later step reported means the earlier ones are behind it, even if they never said so.
  const reached = SETUP_STEPS.reduce((n, step, i) => (last.has(step) ? i : n), -1);
  return (
    <div className="bm-vm-setup" data-testid={`setup-${vmUuid}`} aria-label={T.setupProgress}>
      <Steps
        size="small"
        current={Math.max(reached, 0)}
        items={SETUP_STEPS.map((step, i) => ({
          title: T.setupSteps[step],
          status: last.has(step) ? status(step) : i < reached ? 'finish' : 'wait',
        }))}
      />
      {events.length ? null : <div className="bm-vm-setup-wait">{T.setupWaiting}</div>}
    </div>
  );
}
