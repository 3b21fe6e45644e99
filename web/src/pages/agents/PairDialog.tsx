// "Pair a new agent" (api-ops.md §1.3): creates a pairing and shows the code, the botmox://
// link, the pairing URL and its QR code with a countdown to expiry; once the agent redeems
// the code and reports in, the dialog says so (the page's agent list is live).

import { lazy, Suspense, useEffect, useState } from 'react';
import { Alert, Button, Descriptions, Form, Input, InputNumber, Modal, Spin, Typography } from 'antd';
import { errorMessage } from '../../api/client';
import { agentsApi, type Agent, type Pairing } from '../../api/agents';
import { CopyButton } from '../../components/crud/cells';
import { S } from '../../strings';

const QrCode = lazy(() => import('./QrCode'));
const T = S.agents;

function left(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return;
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, [active]);
  return now;
}

export default function PairDialog({ open, agents, onClose, onCreated }: {
  open: boolean;
  /** The live list, to see the new agent come online. */
  agents: readonly Agent[];
  onClose: () => void;
  onCreated: () => void;
}) {
  const [pairing, setPairing] = useState<Pairing | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const now = useNow(open && pairing !== null);
  const paired = pairing ? agents.find((a) => a.id === pairing.id && a.status !== 'pending') : undefined;
  const remaining = pairing ? Date.parse(pairing.pairing_expires_at) - now : 0;

  const create = async (v: { name?: string; expires_in_minutes?: number }) => {
    setBusy(true);
    setError(null);
    try {
      setPairing(await agentsApi.pair({ name: v.name?.trim() || undefined, expires_in_minutes: v.expires_in_minutes }));
      onCreated();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setPairing(null);
    setError(null);
    onClose();
  };

  const row = (label: string, value: string, testId: string) => (
    <Descriptions.Item label={label}>
      <span className="bm-pair-value">
        <Typography.Text code className="bm-mono" data-testid={testId}>{value}</Typography.Text>
        <CopyButton text={value} />
      </span>
    </Descriptions.Item>
  );

  return (
    <Modal open={open} title={T.pairTitle} onCancel={close} width={720} destroyOnHidden data-testid="pair-dialog"
      footer={pairing ? <Button onClick={close}>{T.close}</Button> : null}>
      {error ? <Alert type="error" showIcon message={error} className="bm-card-alert" /> : null}
      {!pairing ? (
        <Form layout="vertical" onFinish={create} initialValues={{ expires_in_minutes: 15 }}>
          <Form.Item name="name" label={T.pairName}>
            <Input maxLength={200} placeholder={T.pairNamePlaceholder} />
          </Form.Item>
          <Form.Item name="expires_in_minutes" label={T.pairExpires}>
            <InputNumber min={5} max={1440} />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={busy}>{T.pairCreate}</Button>
        </Form>
      ) : (
        <div className="bm-pair">
          <div className="bm-pair-info">
            {paired ? (
              <Alert type={paired.online ? 'success' : 'info'} showIcon data-testid="pair-status"
                message={paired.online ? T.pairDone(paired.name) : T.pairWaiting} />
            ) : remaining > 0 ? (
              <Alert type="info" showIcon data-testid="pair-status" icon={<Spin size="small" />}
                message={T.pairWaiting} description={<span data-testid="pair-countdown">{T.pairExpiresIn(left(remaining))}</span>} />
            ) : (
              <Alert type="warning" showIcon data-testid="pair-status" message={T.pairExpired} />
            )}
            <Descriptions column={1} size="small" bordered className="bm-pair-fields">
              {row(T.pairCode, pairing.pairing_code, 'pair-code')}
              {row(T.pairLink, pairing.pairing_uri, 'pair-uri')}
              {pairing.pairing_url ? row(T.pairUrl, pairing.pairing_url, 'pair-url') : null}
              {row(T.pairCli, `botmox-agent pair ${pairing.pairing_code}${pairing.server_url ? ` --server ${pairing.server_url}` : ''}`, 'pair-cli')}
            </Descriptions>
          </div>
          {pairing.pairing_url ? (
            <Suspense fallback={<Spin />}>
              <QrCode text={pairing.pairing_url} label={T.pairQr} />
            </Suspense>
          ) : null}
        </div>
      )}
    </Modal>
  );
}
