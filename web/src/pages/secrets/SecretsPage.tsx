// Secrets (`/admin/secrets`, api-ops.md §10): metadata only. A value is typed once, in the
// create or rotate dialog, and never comes back: there is no reveal, the dialogs drop their
// fields when they close, and the agents-only value route is never called from here.

import { useState } from 'react';
import { Button, Form, Input, Tag } from 'antd';
import { DeleteOutlined, LinkOutlined, LockOutlined, PlusOutlined, SyncOutlined } from '@ant-design/icons';
import type { PasswordProps } from 'antd/es/input';
import type { ColumnsType } from 'antd/es/table';
import { secretsApi, type SecretBinding, type SecretMeta } from '../../api/secrets';
import AdminGate from '../../components/AdminGate';
import { EntityDialog, FilterBar, IconAction, ListTable, PageHeader, useDeleteAction, useLocalListTable } from '../../components/crud';
import { formatDateTime } from '../../format';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import BindingsDialog from './BindingsDialog';

const T = S.secrets;
const POLL_MS = 15_000;

interface Loaded {
  secrets: SecretMeta[];
  bindings: SecretBinding[];
}

const loadAll = async (): Promise<Loaded> => {
  const [secrets, bindings] = await Promise.all([secretsApi.list(), secretsApi.bindings()]);
  return { secrets, bindings };
};

/** "agent ×2, vm" for a secret's bindings. */
function bindingSummary(list: SecretBinding[]) {
  const counts = new Map<string, number>();
  for (const b of list) counts.set(b.scope_type, (counts.get(b.scope_type) ?? 0) + 1);
  return [...counts].map(([scope, n]) => (
    <Tag key={scope}>
      {T.scope[scope] ?? scope}
      {n > 1 ? ` ×${n}` : ''}
    </Tag>
  ));
}

/** A value field that never shows what it holds: no reveal toggle, no autofill. */
function ValueInput(props: PasswordProps) {
  return <Input.Password {...props} visibilityToggle={false} autoComplete="new-password" spellCheck={false} />;
}

function Secrets() {
  const data = usePolling(loadAll, POLL_MS);
  const [creating, setCreating] = useState(false);
  const [rotating, setRotating] = useState<SecretMeta | null>(null);
  const [binding, setBinding] = useState<SecretMeta | null>(null);
  const secrets = data.data?.secrets ?? [];
  const bindings = data.data?.bindings ?? [];
  const bindingsOf = (id: string) => bindings.filter((b) => b.secret_ref === id);
  const bound = secrets.filter((s) => bindingsOf(s.id).length > 0).length;
  const table = useLocalListTable<SecretMeta>(data.data?.secrets, {
    rowKey: (s) => s.id,
    filterKeys: ['kind'],
    sortValue: { label: (s) => s.label.toLowerCase(), created: (s) => s.created_at, rotated: (s) => s.rotated_at ?? '' },
    matches: (s, q, f) => (!f.kind || s.kind === f.kind) && (!q || s.label.toLowerCase().includes(q) || s.vault_ref.toLowerCase().includes(q)),
  });

  const remove = useDeleteAction<SecretMeta>({
    remove: (s) => secretsApi.remove(s.id),
    confirm: (s) => ({ title: T.deleteTitle(s.label), content: T.deleteText }),
    label: (s) => s.label,
    onChange: data.refresh,
  });

  const columns: ColumnsType<SecretMeta> = [
    {
      key: 'label',
      title: T.colLabel,
      sorter: true,
      render: (_, s) => (
        <>
          <div>{s.label}</div>
          <div className="bm-muted bm-mono">{s.vault_ref}</div>
        </>
      ),
    },
    { key: 'kind', title: T.colKind, render: (_, s) => <Tag>{T.kind[s.kind] ?? s.kind}</Tag> },
    { key: 'version', title: T.colVersion, render: (_, s) => `v${s.material_version}` },
    { key: 'created', title: T.colCreated, sorter: true, render: (_, s) => formatDateTime(s.created_at) },
    {
      key: 'rotated',
      title: T.colRotated,
      sorter: true,
      render: (_, s) => (s.rotated_at ? formatDateTime(s.rotated_at) : <span className="bm-muted">{T.never}</span>),
    },
    {
      key: 'bindings',
      title: T.colBindings,
      render: (_, s) => {
        const mine = bindingsOf(s.id);
        return (
          <Button size="small" type="link" onClick={() => setBinding(s)} data-testid={`secret-bindings-${s.id}`}>
            {mine.length ? bindingSummary(mine) : <span className="bm-muted">{T.noBindings}</span>}
          </Button>
        );
      },
    },
    {
      key: 'actions',
      title: T.colActions,
      width: 110,
      render: (_, s) => (
        <>
          <IconAction title={T.bindings} icon={<LinkOutlined />} onClick={() => setBinding(s)} />
          <IconAction title={T.rotate} icon={<SyncOutlined />} onClick={() => setRotating(s)} testId={`secret-rotate-${s.id}`} />
          <IconAction title={T.remove} icon={<DeleteOutlined />} danger onClick={() => remove(s)} testId={`secret-delete-${s.id}`} />
        </>
      ),
    },
  ];

  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader
          id="secrets"
          icon={<LockOutlined />}
          title={T.title}
          subtitle={T.subtitle}
          actions={
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
              {T.add}
            </Button>
          }
          statsLoading={!data.data}
          stats={[
            { label: T.statTotal, value: secrets.length },
            { label: T.statBound, value: bound, tone: 'success' },
            { label: T.statUnbound, value: secrets.length - bound, tone: 'muted' },
          ]}
        />
        <FilterBar
          table={table}
          placeholder={T.search}
          selects={[{ key: 'kind', label: T.colKind, options: Object.entries(T.kind).map(([value, label]) => ({ value, label })) }]}
        />
        <ListTable
          table={{ ...table, error: data.error ?? table.error, refresh: data.refresh }}
          columns={columns}
          noun={T.noun}
          emptyText={T.empty}
          emptyAction={
            <Button icon={<PlusOutlined />} onClick={() => setCreating(true)}>
              {S.crud.addFirst(T.noun[0])}
            </Button>
          }
          testId="secrets-table"
        />
        <EntityDialog<{ label: string; value: string }>
          open={creating}
          title={T.createTitle}
          onClose={() => setCreating(false)}
          successMessage={T.created}
          onSubmit={async (v) => {
            await secretsApi.create(v.label.trim(), v.value);
            data.refresh();
          }}
          testId="secret-create"
        >
          <Form.Item name="label" label={T.label} rules={[{ required: true, whitespace: true, message: T.labelRequired }, { max: 200 }]}>
            <Input placeholder={T.labelPlaceholder} maxLength={200} autoFocus />
          </Form.Item>
          <Form.Item name="value" label={T.value} extra={T.valueHelp} rules={[{ required: true, message: T.valueRequired }]}>
            <ValueInput />
          </Form.Item>
        </EntityDialog>
        <EntityDialog<{ value: string }>
          open={rotating !== null}
          title={rotating ? T.rotateTitle(rotating.label) : ''}
          okText={T.rotate}
          onClose={() => setRotating(null)}
          successMessage={rotating ? T.rotated(rotating.label) : undefined}
          onSubmit={async (v) => {
            await secretsApi.rotate(rotating!.id, v.value);
            data.refresh();
          }}
          testId="secret-rotate"
        >
          <Form.Item name="value" label={T.newValue} extra={T.rotateHelp} rules={[{ required: true, message: T.valueRequired }]}>
            <ValueInput />
          </Form.Item>
        </EntityDialog>
        <BindingsDialog secret={binding} onClose={() => setBinding(null)} onChange={data.refresh} />
      </div>
    </div>
  );
}

export default function SecretsPage() {
  return (
    <AdminGate>
      <Secrets />
    </AdminGate>
  );
}
