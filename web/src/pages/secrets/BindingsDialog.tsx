// The bindings of one secret: who may fetch it (an agent, or every agent of the tenant) and
// which VM or bot commands it fills. Listed from `/secrets/bindings?secret_ref=`, added and
// removed in place.

import { useCallback, useEffect, useState } from 'react';
import { Alert, Button, Form, Input, Modal, Select, Table } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { agentsApi, type Agent } from '../../api/agents';
import { errorMessage } from '../../api/client';
import { SCOPE_TYPES, secretsApi, type NewBinding, type ScopeType, type SecretBinding, type SecretMeta } from '../../api/secrets';
import { useSession } from '../../api/session';
import { applyServerErrors } from '../../components/crud/serverErrors';
import { IconAction } from '../../components/crud/cells';
import { useDeleteAction } from '../../components/crud/useDeleteAction';
import { formatDateTime } from '../../format';
import { S } from '../../strings';

const T = S.secrets;

type BindForm = Omit<NewBinding, 'secret_ref'>;

export default function BindingsDialog({
  secret,
  onClose,
  onChange,
}: {
  secret: SecretMeta | null;
  onClose: () => void;
  /** After a binding is added or removed (the page's counts). */
  onChange: () => void;
}) {
  const tenant = useSession()?.user.tenant_id ?? '';
  const [form] = Form.useForm<BindForm>();
  const [list, setList] = useState<SecretBinding[] | undefined>(undefined);
  const [agents, setAgents] = useState<Agent[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [problems, setProblems] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const scopeType = Form.useWatch('scope_type', form) as ScopeType | undefined;
  const id = secret?.id;

  const load = useCallback(() => {
    if (!id) return;
    setError(undefined);
    secretsApi.bindings(id).then(setList, setError);
  }, [id]);

  useEffect(() => {
    setList(undefined);
    setProblems([]);
    if (!id) return;
    load();
    agentsApi.list().then(setAgents, () => setAgents([]));
  }, [id, load]);

  const agentName = (agentId: string) => agents.find((a) => a.id === agentId)?.name ?? agentId;
  const target = (b: SecretBinding) =>
    b.scope_type === 'tenant' ? T.scope.tenant : `${T.scope[b.scope_type]}: ${b.scope_type === 'agent' ? agentName(b.scope_id) : b.scope_id}`;

  const unbind = useDeleteAction<SecretBinding>({
    remove: (b) => secretsApi.unbind(b.id),
    confirm: (b) => ({ title: T.unbindTitle, content: T.unbindText(target(b), b.field_name) }),
    label: (b) => `${target(b)} / ${b.field_name}`,
    onChange: () => (load(), onChange()),
  });

  const bind = async (v: BindForm) => {
    if (!id) return;
    setBusy(true);
    setProblems([]);
    try {
      await secretsApi.bind({
        scope_type: v.scope_type,
        scope_id: v.scope_type === 'tenant' ? tenant : v.scope_id.trim(),
        field_name: v.field_name.trim(),
        secret_ref: id,
      });
      form.resetFields(['scope_id', 'field_name']);
      load();
      onChange();
    } catch (e) {
      setProblems(applyServerErrors(form, e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={secret !== null}
      title={secret ? T.bindingsTitle(secret.label) : ''}
      width={760}
      footer={<Button onClick={onClose}>{T.close}</Button>}
      onCancel={onClose}
      destroyOnHidden
      data-testid="secret-bindings"
    >
      <div className="bm-admin-hint">{T.bindingsIntro}</div>
      {error ? (
        <Alert
          className="bm-card-alert"
          type="error"
          showIcon
          message={errorMessage(error)}
          action={<Button size="small" onClick={load}>{S.common.retry}</Button>}
        />
      ) : null}
      <Table<SecretBinding>
        size="small"
        rowKey="id"
        loading={list === undefined && !error}
        dataSource={list ?? []}
        pagination={{ defaultPageSize: 10, size: 'small', hideOnSinglePage: true }}
        locale={{ emptyText: T.bindingsEmpty }}
        data-testid="bindings-table"
        columns={[
          { key: 'scope', title: T.colScope, render: (_, b) => target(b) },
          { key: 'field', title: T.colField, render: (_, b) => <span className="bm-mono">{b.field_name}</span> },
          { key: 'since', title: T.colBound, render: (_, b) => formatDateTime(b.updated_at) },
          {
            key: 'actions',
            width: 50,
            render: (_, b) => <IconAction title={T.unbind} icon={<DeleteOutlined />} danger onClick={() => unbind(b)} testId={`unbind-${b.id}`} />,
          },
        ]}
      />
      {problems.length ? <Alert className="bm-card-alert" type="error" showIcon message={S.crud.fixFields} description={problems.join('; ')} /> : null}
      <Form<BindForm>
        form={form}
        className="bm-admin-bind"
        layout="vertical"
        initialValues={{ scope_type: 'agent' }}
        onFinish={(v) => void bind(v)}
        onValuesChange={() => problems.length && setProblems([])}
        disabled={busy}
      >
        <Form.Item name="scope_type" label={T.scopeType}>
          <Select options={SCOPE_TYPES.map((s) => ({ value: s, label: T.scope[s] }))} onChange={() => form.setFieldValue('scope_id', undefined)} />
        </Form.Item>
        {scopeType === 'tenant' ? null : (
          <Form.Item name="scope_id" label={T.scopeId} rules={[{ required: true, whitespace: true, message: T.scopeIdRequired }]}>
            {scopeType === 'agent' ? (
              <Select
                placeholder={T.agentPick}
                style={{ width: 220 }}
                showSearch
                optionFilterProp="label"
                options={agents.filter((a) => a.status !== 'revoked').map((a) => ({ value: a.id, label: a.name }))}
              />
            ) : (
              <Input placeholder={T.scopeIdPlaceholder(scopeType ?? '')} maxLength={200} style={{ width: 220 }} />
            )}
          </Form.Item>
        )}
        <Form.Item name="field_name" label={T.field} rules={[{ required: true, whitespace: true, message: T.fieldRequired }, { max: 200 }]}>
          <Input placeholder={T.fieldPlaceholder} maxLength={200} style={{ width: 200 }} />
        </Form.Item>
        <Form.Item label=" ">
          <Button type="primary" htmlType="submit" icon={<PlusOutlined />} loading={busy}>
            {T.bind}
          </Button>
        </Form.Item>
      </Form>
    </Modal>
  );
}
