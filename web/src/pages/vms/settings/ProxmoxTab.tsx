// "Proxmox" tab (web-ui.md §2.7): the clone source VM checked live through the agent, the
// storage new VMs go to (or the one with most free space), and a preview of a VM hardware
// identity. Saved in `settings/vmgenerator/clone`; the queue starts from them. Without an
// agent the checks cannot run: the tab says so and offers the pairing dialog.

import { useEffect, useState } from 'react';
import { Alert, App, Button, Descriptions, Form, InputNumber, Radio, Spin, Table } from 'antd';
import { SaveOutlined } from '@ant-design/icons';
import { errorMessage } from '../../../api/client';
import { runCommand } from '../../../api/vmops';
import { CopyButton } from '../../../components/crud';
import { S } from '../../../strings';
import type { Computer } from '../computers';
import { NextSteps, reasonText, type NoComputer } from '../Disconnected';
import { useCloneSettings, type CloneSettings } from '../cloneSettings';
import { AUTO_STORAGE } from '../useQueue';
import { free, mostFree, usage, useStorages, type Storage } from '../storages';
import { generatePatch, type Patch } from './patch';

const T = S.vms.vmSettings.proxmox;
const GB = 1024 ** 3;

type Check = { state: 'idle' } | { state: 'checking' } | { state: 'found'; config: Record<string, unknown> } | { state: 'failed'; error: string };

/** "virtio0: local-lvm:vm-100-disk-0,size=128G" → "local-lvm, 128G" for the summary. */
function diskOf(config: Record<string, unknown>): string {
  const key = Object.keys(config).find((k) => /^(scsi|virtio|sata|ide)\d+$/.test(k) && !String(config[k]).includes('media=cdrom'));
  if (!key) return '—';
  const v = String(config[key]);
  const size = /size=([^,]+)/.exec(v)?.[1];
  return [v.split(':')[0], size].filter(Boolean).join(', ');
}

function CloneCheck({ computer, vmid }: { computer: Computer; vmid: number | undefined }) {
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  useEffect(() => {
    if (!vmid) return setCheck({ state: 'idle' });
    let alive = true;
    setCheck({ state: 'checking' });
    // Debounced: typing 1, 10, 100 asks once.
    const timer = window.setTimeout(() => {
      runCommand<Record<string, unknown>>(computer.agent.id, 'get-config', { target: computer.target.id, vmid }).then(
        (config) => alive && setCheck({ state: 'found', config: config ?? {} }),
        (e: unknown) => alive && setCheck({ state: 'failed', error: errorMessage(e) }),
      );
    }, 500);
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [computer.agent.id, computer.target.id, vmid]);

  if (check.state === 'idle') return null;
  if (check.state === 'checking') return <Spin size="small" />;
  if (check.state === 'failed') return <Alert type="error" showIcon message={T.notFound(vmid ?? 0, check.error)} data-testid="clone-check" />;
  const c = check.config;
  return (
    <div data-testid="clone-check">
      <Alert
        type={c.template ? 'success' : 'warning'}
        showIcon
        message={T.found(vmid ?? 0, computer.target.node, String(c.cores ?? '?'), String(c.memory ?? '?'))}
        description={c.template ? undefined : T.notTemplate}
      />
      <Descriptions size="small" column={4} className="bm-vms-summary">
        <Descriptions.Item label={T.cpu}>{`${c.cores ?? '?'} × ${c.sockets ?? 1}${c.cpu ? ` (${String(c.cpu)})` : ''}`}</Descriptions.Item>
        <Descriptions.Item label={T.memory}>{`${c.memory ?? '?'} MB`}</Descriptions.Item>
        <Descriptions.Item label={T.disk}>{diskOf(c)}</Descriptions.Item>
        <Descriptions.Item label={T.display}>{String(c.vga ?? T.defaultDisplay)}</Descriptions.Item>
      </Descriptions>
    </div>
  );
}

function Storages({ list, value, onChange }: { list: Storage[]; value: string; onChange: (v: string) => void }) {
  const best = mostFree(list);
  return (
    <Radio.Group value={value} onChange={(e) => onChange(e.target.value as string)} className="bm-vms-storages">
      <Radio value={AUTO_STORAGE}>{T.autoStorage(best)}</Radio>
      <Table<Storage>
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={list}
        locale={{ emptyText: T.noStorages }}
        columns={[
          { key: 'pick', width: 40, render: (_, s) => <Radio value={s.id} aria-label={s.id} /> },
          { key: 'id', title: T.storage, dataIndex: 'id' },
          {
            key: 'usage',
            title: T.usage,
            render: (_, s) => {
              const u = usage(s);
              return u ? `${u.pct}% (${u.used} GB of ${u.total} GB)` : '—';
            },
          },
          { key: 'free', title: T.free, render: (_, s) => (s.total ? `${(free(s) / GB).toFixed(1)} GB` : '—') },
        ]}
      />
    </Radio.Group>
  );
}

function PatchPreview() {
  const [patch, setPatch] = useState<Patch | null>(null);
  return (
    <fieldset className="bm-vms-card">
      <legend>{T.patchTitle}</legend>
      <div className="bm-vms-hint">{T.patchHint}</div>
      <Button onClick={() => setPatch(generatePatch())} data-testid="generate-patch">{T.generate}</Button>
      {patch ? (
        <Descriptions size="small" column={1} className="bm-vms-summary" data-testid="patch-preview">
          <Descriptions.Item label={T.brandBoard}>{`${patch.brand} / ${patch.board}`}</Descriptions.Item>
          <Descriptions.Item label={T.cpu}>{patch.cpu}</Descriptions.Item>
          <Descriptions.Item label={T.mac}><span className="bm-mono">{patch.mac}</span></Descriptions.Item>
          <Descriptions.Item label={T.ssdSerial}><span className="bm-mono">{patch.ssdSerial}</span></Descriptions.Item>
          <Descriptions.Item label={T.smbiosArgs}>
            <span className="bm-mono bm-vms-args">{patch.smbiosArgs}</span> <CopyButton text={patch.smbiosArgs} label={T.copyArgs} />
          </Descriptions.Item>
        </Descriptions>
      ) : null}
    </fieldset>
  );
}

export default function ProxmoxTab({ computer, noComputer }: { computer: Computer | undefined; noComputer: NoComputer | null }) {
  const { message } = App.useApp();
  const model = useCloneSettings();
  const storages = useStorages(computer);
  const [form] = Form.useForm<CloneSettings>();
  const vmid = Form.useWatch('source_vmid', form);
  const storage = Form.useWatch('storage', form) ?? AUTO_STORAGE;

  useEffect(() => {
    if (model.data) form.setFieldsValue(model.data);
  }, [model.data, form]);

  const save = async (v: CloneSettings) => {
    try {
      await model.save({ source_vmid: v.source_vmid ?? null, storage: v.storage ?? AUTO_STORAGE });
      message.success(S.vms.vmSettings.saved(S.vms.vmSettings.tabProxmox));
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  if (model.error) return <Alert type="error" showIcon message={S.vms.vmSettings.loadFailed(errorMessage(model.error))} />;
  if (!model.data) return <Spin />;
  return (
    <Form form={form} layout="vertical" size="small" onFinish={(v) => void save(v)} className="bm-vms-proxmox" data-testid="proxmox-tab">
      {noComputer ? (
        <Alert
          type="warning"
          showIcon
          message={T.offline}
          description={reasonText(noComputer)}
          action={<NextSteps />}
          data-testid="proxmox-no-agent"
        />
      ) : null}
      <fieldset className="bm-vms-card">
        <legend>{T.cloneTitle}</legend>
        <Form.Item name="source_vmid" label={T.sourceVmid} extra={T.sourceHint} rules={[{ type: 'number', min: 100, max: 999_999_999, message: T.vmidRange }]}>
          <InputNumber min={100} max={999_999_999} style={{ width: 180 }} />
        </Form.Item>
        {computer ? <CloneCheck computer={computer} vmid={vmid ?? undefined} /> : null}
      </fieldset>
      <fieldset className="bm-vms-card">
        <legend>{T.storagesTitle}</legend>
        <Form.Item name="storage" noStyle>
          <Storages list={storages.list} value={storage} onChange={(v) => form.setFieldValue('storage', v)} />
        </Form.Item>
      </fieldset>
      <PatchPreview />
      <Button type="primary" htmlType="submit" icon={<SaveOutlined />}>{S.vms.vmSettings.save}</Button>
    </Form>
  );
}
