// Leases (`/admin/leases`, api-ops.md §7): the tenant licenses and per-user entitlements a
// lease is issued against (create, edit, delete), and the leases issued, paged by the
// server, filterable by state, revocable.

import { useState } from 'react';
import { Button, Card, DatePicker, Form, Input, InputNumber, Select, Table, Tag } from 'antd';
import { DeleteOutlined, EditOutlined, PlusOutlined, SafetyCertificateOutlined, StopOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import dayjs, { type Dayjs } from 'dayjs';
import {
  LEASE_STATES,
  LICENSE_STATUSES,
  LICENSE_TYPES,
  entitledModules,
  leasesApi,
  type Entitlement,
  type LeaseInfo,
  type License,
  type LicenseStatus,
} from '../../api/leases';
import { usersApi, type TenantUser } from '../../api/users';
import AdminGate from '../../components/AdminGate';
import EntityDialog from '../../components/crud/EntityDialog';
import ListTable from '../../components/crud/ListTable';
import LoadError, { firstLoad } from '../../components/crud/LoadError';
import PageHeader from '../../components/crud/PageHeader';
import { IconAction } from '../../components/crud/cells';
import { useDeleteAction } from '../../components/crud/useDeleteAction';
import { useListTable } from '../../components/crud/useListTable';
import { formatDateTime } from '../../format';
import { usePolling } from '../../hooks';
import { S } from '../../strings';

const T = S.leases;
const POLL_MS = 15_000;
const EVERYONE = '';

const STATE_COLOR: Record<string, string> = { active: 'success', expired: 'default', revoked: 'error' };

interface Loaded {
  licenses: License[];
  entitlements: Entitlement[];
  users: TenantUser[];
}

const loadAll = async (): Promise<Loaded> => {
  const [licenses, entitlements, users] = await Promise.all([leasesApi.licenses(), leasesApi.entitlements(), usersApi.list()]);
  return { licenses, entitlements, users };
};

interface LicenseForm {
  id: string;
  user_id: string;
  type: string;
  status: LicenseStatus;
  expires?: Dayjs | null;
}

interface EntitlementForm {
  user_id: string;
  modules: string[];
  max_active_leases?: number | null;
}

/** The dialog being shown: a new item, or an existing one to edit. */
type Editing<T> = { item?: T } | null;

function Leases() {
  const data = usePolling(loadAll, POLL_MS);
  const [license, setLicense] = useState<Editing<License>>(null);
  const [entitlement, setEntitlement] = useState<Editing<Entitlement>>(null);
  const licenses = data.data?.licenses ?? [];
  const entitlements = data.data?.entitlements ?? [];
  const users = data.data?.users ?? [];
  const email = (id: string) => users.find((u) => u.id === id)?.email ?? id;
  const userOptions = users.map((u) => ({ value: u.id, label: u.email }));
  const { loading, failed } = firstLoad(data);

  const leases = useListTable<LeaseInfo>({
    load: (st) => leasesApi.leases(st.page, st.limit, st.filters.state),
    rowKey: (l) => l.id,
    filterKeys: ['state'],
    paramPrefix: 'lease_',
    pollMs: POLL_MS,
  });

  const deleteLicense = useDeleteAction<License>({
    remove: (l) => leasesApi.deleteLicense(l.id),
    confirm: (l) => ({ title: T.deleteLicense(l.id), content: T.deleteLicenseText }),
    label: (l) => l.id,
    onChange: data.refresh,
  });
  const deleteEntitlement = useDeleteAction<Entitlement>({
    remove: (e) => leasesApi.deleteEntitlement(e.user_id),
    confirm: (e) => ({ title: T.deleteEntitlement(email(e.user_id)), content: T.deleteEntitlementText }),
    label: (e) => email(e.user_id),
    onChange: data.refresh,
  });
  // Revoking is a one-way change, confirmed like a delete.
  const revoke = useDeleteAction<LeaseInfo>({
    remove: (l) => leasesApi.revoke(l.id),
    confirm: () => ({ title: T.revokeTitle, content: T.revokeText }),
    label: (l) => l.id.slice(0, 8),
    onChange: leases.refresh,
  });

  const licenseColumns: ColumnsType<License> = [
    { key: 'id', title: T.colId, render: (_, l) => <span className="bm-mono">{l.id}</span> },
    { key: 'user', title: T.colUser, render: (_, l) => (l.user_id ? email(l.user_id) : <Tag>{T.everyone}</Tag>) },
    { key: 'type', title: T.colType, dataIndex: 'type' },
    { key: 'status', title: T.colStatus, render: (_, l) => <Tag color={STATE_COLOR[l.status]}>{T.states[l.status] ?? l.status}</Tag> },
    { key: 'expires', title: T.colExpires, render: (_, l) => (l.expires_at_ms ? formatDateTime(l.expires_at_ms) : <span className="bm-muted">{T.never}</span>) },
    { key: 'updated', title: T.colUpdated, render: (_, l) => formatDateTime(l.updated_at_ms) },
    {
      key: 'actions',
      title: T.colActions,
      width: 80,
      render: (_, l) => (
        <>
          <IconAction title={T.edit} icon={<EditOutlined />} onClick={() => setLicense({ item: l })} testId={`license-edit-${l.id}`} />
          <IconAction title={T.remove} icon={<DeleteOutlined />} danger onClick={() => deleteLicense(l)} testId={`license-delete-${l.id}`} />
        </>
      ),
    },
  ];

  const entitlementColumns: ColumnsType<Entitlement> = [
    { key: 'user', title: T.colUser, render: (_, e) => email(e.user_id) },
    {
      key: 'modules',
      title: T.colModules,
      render: (_, e) => entitledModules(e).map((m) => <Tag key={m} className="bm-mono">{m}</Tag>),
    },
    { key: 'max', title: T.colMax, render: (_, e) => e.max_active_leases ?? <span className="bm-muted">{T.noLimit}</span> },
    { key: 'updated', title: T.colUpdated, render: (_, e) => formatDateTime(e.updated_at_ms) },
    {
      key: 'actions',
      title: T.colActions,
      width: 80,
      render: (_, e) => (
        <>
          <IconAction title={T.edit} icon={<EditOutlined />} onClick={() => setEntitlement({ item: e })} testId={`entitlement-edit-${e.user_id}`} />
          <IconAction title={T.remove} icon={<DeleteOutlined />} danger onClick={() => deleteEntitlement(e)} testId={`entitlement-delete-${e.user_id}`} />
        </>
      ),
    },
  ];

  const leaseColumns: ColumnsType<LeaseInfo> = [
    { key: 'id', title: T.colLease, render: (_, l) => <span className="bm-mono" title={l.id}>{l.id.slice(0, 8)}</span> },
    { key: 'user', title: T.colUser, render: (_, l) => email(l.user_id) },
    { key: 'module', title: T.colModule, render: (_, l) => (l.version ? `${l.module} ${l.version}` : l.module) },
    { key: 'vm', title: T.colVm, render: (_, l) => <span className="bm-mono">{l.vm_name || l.vm_uuid}</span> },
    { key: 'agent', title: T.colAgent, render: (_, l) => <span className="bm-mono">{l.agent_id}</span> },
    { key: 'state', title: T.colState, render: (_, l) => <Tag color={STATE_COLOR[l.state]}>{T.states[l.state]}</Tag> },
    { key: 'issued', title: T.colIssued, render: (_, l) => formatDateTime(l.created_at_ms) },
    { key: 'heartbeat', title: T.colHeartbeat, render: (_, l) => formatDateTime(l.last_heartbeat_at_ms) },
    { key: 'expires', title: T.colExpires, render: (_, l) => formatDateTime(l.revoked_at_ms ?? l.expires_at_ms) },
    {
      key: 'actions',
      width: 50,
      render: (_, l) =>
        l.state === 'active' ? <IconAction title={T.revoke} icon={<StopOutlined />} danger onClick={() => revoke(l)} testId={`lease-revoke-${l.id}`} /> : null,
    },
  ];

  const editingLicense = license?.item;
  const editingEntitlement = entitlement?.item;

  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader
          id="leases"
          icon={<SafetyCertificateOutlined />}
          title={T.title}
          subtitle={T.subtitle}
          statsLoading={!data.data}
          stats={[
            { label: T.licenses, value: licenses.filter((l) => l.status === 'active').length, tone: 'success' },
            { label: T.entitlements, value: entitlements.length, tone: 'info' },
            { label: T.leases, value: leases.data?.total ?? 0 },
          ]}
        />
        {data.error ? <LoadError error={data.error} retry={data.refresh} /> : null}
        <Card
          className="bm-card bm-admin-card"
          size="small"
          title={T.licenses}
          extra={<Button size="small" icon={<PlusOutlined />} onClick={() => setLicense({})}>{T.addLicense}</Button>}
        >
          <Table<License>
            size="small"
            rowKey="id"
            columns={licenseColumns}
            dataSource={licenses}
            loading={loading}
            pagination={{ defaultPageSize: 10, size: 'small', hideOnSinglePage: true }}
            locale={{ emptyText: failed ?? T.licensesEmpty }}
            scroll={{ x: 'max-content' }}
            data-testid="licenses-table"
          />
        </Card>
        <Card
          className="bm-card bm-admin-card"
          size="small"
          title={T.entitlements}
          extra={<Button size="small" icon={<PlusOutlined />} onClick={() => setEntitlement({})}>{T.addEntitlement}</Button>}
        >
          <Table<Entitlement>
            size="small"
            rowKey="user_id"
            columns={entitlementColumns}
            dataSource={entitlements}
            loading={loading}
            pagination={{ defaultPageSize: 10, size: 'small', hideOnSinglePage: true }}
            locale={{ emptyText: failed ?? T.entitlementsEmpty }}
            scroll={{ x: 'max-content' }}
            data-testid="entitlements-table"
          />
        </Card>
        <Card
          className="bm-card bm-admin-card"
          size="small"
          title={T.leases}
          extra={
            <Select
              size="small"
              aria-label={T.colState}
              style={{ width: 140 }}
              value={leases.state.filters.state ?? ''}
              onChange={(v) => leases.setFilter('state', v)}
              options={[{ value: '', label: T.allStates }, ...LEASE_STATES.map((s) => ({ value: s, label: T.states[s] }))]}
            />
          }
        >
          <ListTable<LeaseInfo> table={leases} columns={leaseColumns} noun={T.total} emptyText={T.leasesEmpty} testId="leases-table" />
        </Card>
        <EntityDialog<LicenseForm>
          open={license !== null}
          title={T.licenseTitle(editingLicense?.id)}
          initialValues={{
            id: editingLicense?.id,
            user_id: editingLicense?.user_id ?? EVERYONE,
            type: editingLicense?.type ?? 'subscription',
            status: editingLicense?.status ?? 'active',
            expires: editingLicense?.expires_at_ms ? dayjs(editingLicense.expires_at_ms) : dayjs().add(30, 'day'),
          }}
          successMessage={T.licenseSaved}
          fieldMap={{ expires_at_ms: 'expires' }}
          onClose={() => setLicense(null)}
          onSubmit={async (v) => {
            await leasesApi.putLicense(v.id.trim(), {
              user_id: v.user_id === EVERYONE ? undefined : v.user_id,
              type: v.type,
              status: v.status,
              // Only a subscription runs out; the others ignore an expiry, so none is sent.
              expires_at_ms: v.type === 'subscription' && v.expires ? v.expires.endOf('day').valueOf() : undefined,
            });
            data.refresh();
          }}
          testId="license-dialog"
        >
          <Form.Item name="id" label={T.licenseId} rules={[{ required: true, whitespace: true, message: T.licenseIdRequired }, { max: 200, message: T.licenseIdPattern }]}>
            <Input maxLength={200} disabled={editingLicense !== undefined} placeholder="lic-main" />
          </Form.Item>
          <Form.Item name="user_id" label={T.licenseUser}>
            <Select showSearch optionFilterProp="label" options={[{ value: EVERYONE, label: T.everyone }, ...userOptions]} />
          </Form.Item>
          <Form.Item name="type" label={T.type}>
            <Select options={LICENSE_TYPES.map((t) => ({ value: t, label: t }))} />
          </Form.Item>
          <Form.Item name="status" label={T.status}>
            <Select options={LICENSE_STATUSES.map((s) => ({ value: s, label: T.states[s] }))} />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(prev, next) => prev.type !== next.type}>
            {({ getFieldValue }) =>
              getFieldValue('type') === 'subscription' ? (
                <Form.Item name="expires" label={T.expires} rules={[{ required: true, message: T.expiresRequired }]}>
                  <DatePicker format="DD.MM.YYYY" style={{ width: '100%' }} />
                </Form.Item>
              ) : null
            }
          </Form.Item>
        </EntityDialog>
        <EntityDialog<EntitlementForm>
          open={entitlement !== null}
          title={T.entitlementTitle(editingEntitlement ? email(editingEntitlement.user_id) : undefined)}
          initialValues={{
            user_id: editingEntitlement?.user_id,
            modules: editingEntitlement ? entitledModules(editingEntitlement) : [],
            max_active_leases: editingEntitlement?.max_active_leases ?? null,
          }}
          successMessage={T.entitlementSaved}
          onClose={() => setEntitlement(null)}
          onSubmit={async (v) => {
            await leasesApi.putEntitlement(v.user_id, {
              // The object form: it is the one where "*" means every module.
              modules: Object.fromEntries(v.modules.map((m) => m.trim()).filter(Boolean).map((m) => [m, true])),
              max_active_leases: v.max_active_leases ?? undefined,
            });
            data.refresh();
          }}
          testId="entitlement-dialog"
        >
          <Form.Item name="user_id" label={T.entitlementUser} rules={[{ required: true, message: T.entitlementUserRequired }]}>
            <Select showSearch optionFilterProp="label" disabled={editingEntitlement !== undefined} options={userOptions} />
          </Form.Item>
          <Form.Item name="modules" label={T.modules} extra={T.modulesHelp} rules={[{ required: true, type: 'array', min: 1, message: T.modulesRequired }]}>
            <Select mode="tags" tokenSeparators={[',', ' ']} open={false} suffixIcon={null} />
          </Form.Item>
          <Form.Item name="max_active_leases" label={T.maxLeases} extra={T.maxLeasesHelp}>
            <InputNumber min={0} max={100000} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </EntityDialog>
      </div>
    </div>
  );
}

export default function LeasesPage() {
  return (
    <AdminGate>
      <Leases />
    </AdminGate>
  );
}
