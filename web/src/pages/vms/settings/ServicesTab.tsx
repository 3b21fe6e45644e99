// "Services" tab: where the infra gateway proxies each service site to
// (`settings/vmgenerator/services`, web-ui.md §2.7 Quirks/Rewrite: the reference had this form
// but never showed it). Only admin/infra may write it; the server says so to anyone else.

import { useEffect, useState } from 'react';
import { Alert, App, Button, Form, Input, Spin, Switch } from 'antd';
import { SaveOutlined } from '@ant-design/icons';
import { api, errorMessage } from '../../../api/client';
import { S } from '../../../strings';

const T = S.vms.vmSettings;
const PATH = '/settings/vmgenerator/services';

interface Services {
  proxmoxUrl?: string;
  tinyFmUrl?: string;
  syncthingUrl?: string;
  insecureTls?: boolean;
}

const URL_RULE = { type: 'url' as const, message: T.urlInvalid };

export default function ServicesTab() {
  const { message } = App.useApp();
  const [form] = Form.useForm<Services>();
  const [state, setState] = useState<{ loading: boolean; error?: string }>({ loading: true });

  useEffect(() => {
    api.get<Services | null>(PATH).then(
      (s) => (form.setFieldsValue(s ?? {}), setState({ loading: false })),
      (e: unknown) => setState({ loading: false, error: errorMessage(e) }),
    );
  }, [form]);

  const save = async (v: Services) => {
    // Empty fields are left out: the whole document is replaced, so they are cleared.
    const body: Services = { insecureTls: !!v.insecureTls };
    for (const k of ['proxmoxUrl', 'tinyFmUrl', 'syncthingUrl'] as const) {
      const url = v[k]?.trim();
      if (url) body[k] = url;
    }
    try {
      await api.put(PATH, body);
      message.success(T.saved(T.tabServices));
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  if (state.loading) return <Spin />;
  if (state.error) return <Alert type="error" showIcon message={T.loadFailed(state.error)} />;
  return (
    <Form form={form} layout="vertical" size="small" onFinish={(v) => void save(v)} className="bm-vms-services">
      <div className="bm-vms-hint">{T.servicesHint}</div>
      <Form.Item name="proxmoxUrl" label={T.proxmoxUrl} rules={[URL_RULE]}><Input placeholder="https://pve.lan:8006" /></Form.Item>
      <Form.Item name="tinyFmUrl" label={T.tinyFmUrl} rules={[URL_RULE]}><Input placeholder="http://files.lan:8080" /></Form.Item>
      <Form.Item name="syncthingUrl" label={T.syncthingUrl} rules={[URL_RULE]}><Input placeholder="http://sync.lan:8384" /></Form.Item>
      <Form.Item name="insecureTls" label={T.insecureTls} valuePropName="checked"><Switch /></Form.Item>
      <Button type="primary" htmlType="submit" icon={<SaveOutlined />}>{T.save}</Button>
    </Form>
  );
}
