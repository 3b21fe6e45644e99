// "Pair an agent" one click away from any page that needs an agent: the button and the
// pairing dialog, with the agent list polled only while the dialog is open (to see the new
// agent come online). The dialog (with its QR code) loads on the first click, so the pages
// that merely offer it, the Overview among them, stay light.

import { lazy, Suspense, useState } from 'react';
import { Button, type ButtonProps } from 'antd';
import { ApiOutlined } from '@ant-design/icons';
import { agentsApi } from '../../api/agents';
import { usePolling } from '../../hooks';
import { S } from '../../strings';

const PairDialog = lazy(() => import('./PairDialog'));

const POLL_MS = 3_000;

function LivePairDialog({ onClose, onPaired }: { onClose: () => void; onPaired?: () => void }) {
  const agents = usePolling(agentsApi.list, POLL_MS);
  return (
    <PairDialog
      open
      agents={agents.data ?? []}
      onClose={() => {
        onClose();
        onPaired?.();
      }}
      onCreated={agents.refresh}
    />
  );
}

export default function PairAgentButton({ onPaired, ...button }: ButtonProps & { onPaired?: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button icon={<ApiOutlined />} data-testid="pair-agent" {...button} onClick={() => setOpen(true)}>
        {button.children ?? S.firstRun.pairAgent}
      </Button>
      {open ? (
        <Suspense fallback={null}>
          <LivePairDialog onClose={() => setOpen(false)} onPaired={onPaired} />
        </Suspense>
      ) : null}
    </>
  );
}
