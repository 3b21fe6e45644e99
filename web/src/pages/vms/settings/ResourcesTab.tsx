// "Resources" tab: CPU cores 1–64, RAM GiB 1–512 (stored in MB), disk GiB 32–4096 per
// configured project; the queue's PROJECT column uses them.

import { useEffect } from 'react';
import { Alert, App, Button, Form, InputNumber, Spin } from 'antd';
import { SaveOutlined } from '@ant-design/icons';
import { errorMessage } from '../../../api/client';
import { S } from '../../../strings';
import { LIMITS, resourcesOf, useProjectResources, type Resources } from '../projectResources';

const T = S.vms.vmSettings;

type Row = { cores: number; ramGiB: number; diskGiB: number };

export default function ResourcesTab({ model }: { model: ReturnType<typeof useProjectResources> }) {
  const { message } = App.useApp();
  const [form] = Form.useForm<Record<string, Row>>();
  const { data, error } = model;

  useEffect(() => {
    if (!data) return;
    form.setFieldsValue(
      Object.fromEntries(
        data.projects.map((p) => {
          const r = resourcesOf(data, p.id);
          return [p.id, { cores: r.cores, ramGiB: Math.round(r.memoryMb / 1024), diskGiB: r.diskGb }];
        }),
      ),
    );
  }, [data, form]);

  const save = async (rows: Record<string, Row>) => {
    const out: Record<string, Resources> = {};
    for (const [id, r] of Object.entries(rows)) out[id] = { cores: r.cores, memoryMb: r.ramGiB * 1024, diskGb: r.diskGiB };
    try {
      await model.save(out);
      message.success(T.saved(T.resourcesTitle));
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  if (error) return <Alert type="error" showIcon message={T.loadFailed(errorMessage(error))} />;
  if (!data) return <Spin />;
  if (!data.projects.length) return <Alert type="info" showIcon message={T.noProjects} />;
  const num = (id: string, key: keyof Row, [min, max]: readonly [number, number], label: string) => (
    <Form.Item name={[id, key]} label={label} rules={[{ required: true, type: 'number', min, max, message: `${min}–${max}` }]}>
      <InputNumber min={min} max={max} aria-label={`${id} ${label}`} />
    </Form.Item>
  );
  return (
    <Form form={form} layout="inline" size="small" onFinish={(v) => void save(v)} className="bm-vms-resources">
      <div className="bm-vm-panetitle">{T.resourcesTitle}</div>
      <div className="bm-vms-hint">{T.resourcesHint}</div>
      {data.projects.map((p) => (
        <fieldset key={p.id} className="bm-vms-card">
          <legend>{p.name ?? p.id}</legend>
          {num(p.id, 'cores', LIMITS.cores, T.cores)}
          {num(p.id, 'ramGiB', LIMITS.ramGiB, T.ramGiB)}
          {num(p.id, 'diskGiB', LIMITS.diskGiB, T.diskGiB)}
        </fieldset>
      ))}
      <Button type="primary" htmlType="submit" icon={<SaveOutlined />}>{T.save}</Button>
    </Form>
  );
}
