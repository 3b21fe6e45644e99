// Console-less config edit of one VM: `proxmox.get-config`, then `proxmox.update-config`
// with the changed whitelisted keys (api-ops.md §4: cores, memory, name, onboot) and a wait
// for its task. The rest of the config is shown read-only.

import { useEffect, useState } from 'react';
import { Alert, App, Descriptions, Form, Input, InputNumber, Modal, Spin, Switch } from 'antd';
import { errorMessage } from '../../api/client';
import { runCommand, runTask } from '../../api/vmops';
import { S } from '../../strings';
import type { Computer } from './computers';
import type { Vm } from '../../api/vmops';

const T = S.vms;
const EDITABLE = ['cores', 'memory', 'name', 'onboot'] as const;

interface Values {
  cores?: number;
  memory?: number;
  name?: string;
  onboot?: boolean;
}

export default function ConfigDialog({ computer, vm, onClose }: { computer: Computer; vm: Vm; onClose: () => void }) {
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const [config, setConfig] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const scope = { target: computer.target.id, vmid: vm.vmid };

  useEffect(() => {
    runCommand<Record<string, unknown>>(computer.agent.id, 'get-config', { target: computer.target.id, vmid: vm.vmid }).then(
      (c) => {
        setConfig(c);
        form.setFieldsValue({
          cores: Number(c.cores) || undefined,
          memory: Number(c.memory) || undefined,
          name: typeof c.name === 'string' ? c.name : undefined,
          onboot: c.onboot === 1 || c.onboot === '1',
        });
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [computer.agent.id, computer.target.id, vm.vmid, form]);

  const save = async () => {
    const v = await form.validateFields();
    const changed: Record<string, unknown> = {};
    for (const k of EDITABLE) {
      const now = v[k];
      const was = k === 'onboot' ? config?.onboot === 1 || config?.onboot === '1' : config?.[k];
      if (now !== undefined && String(now) !== String(was ?? '')) changed[k] = k === 'onboot' ? (now ? 1 : 0) : now;
    }
    if (!Object.keys(changed).length) return onClose();
    setSaving(true);
    try {
      await runTask(computer.agent.id, 'update-config', { ...scope, config: changed });
      message.success(T.configSaved(vm.vmid));
      onClose();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  };

  const rest = config ? Object.entries(config).filter(([k]) => !(EDITABLE as readonly string[]).includes(k) && k !== 'digest') : [];
  return (
    <Modal open title={T.configTitle(vm.vmid)} onCancel={onClose} onOk={save} okButtonProps={{ loading: saving, disabled: !config }} width={640} data-testid="vm-config-dialog">
      {error ? <Alert type="error" showIcon message={error} className="bm-card-alert" /> : null}
      {!config && !error ? <Spin /> : null}
      {config ? (
        <>
          <Form form={form} layout="vertical" onFinish={save} className="bm-vm-config-form">
            <Form.Item name="name" label={T.configName} rules={[{ pattern: /^[A-Za-z0-9.-]{1,64}$/ }]}>
              <Input maxLength={64} />
            </Form.Item>
            <Form.Item name="cores" label={T.configCores}>
              <InputNumber min={1} max={64} />
            </Form.Item>
            <Form.Item name="memory" label={T.configMemory}>
              <InputNumber min={256} max={524288} step={512} />
            </Form.Item>
            <Form.Item name="onboot" label={T.configOnboot} valuePropName="checked">
              <Switch />
            </Form.Item>
          </Form>
          {rest.length ? (
            <Descriptions size="small" column={1} bordered title={T.configRaw}>
              {rest.map(([k, v]) => (
                <Descriptions.Item key={k} label={k}>
                  <span className="bm-mono">{typeof v === 'string' ? v : JSON.stringify(v)}</span>
                </Descriptions.Item>
              ))}
            </Descriptions>
          ) : null}
        </>
      ) : null}
    </Modal>
  );
}
