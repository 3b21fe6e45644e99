// Artifacts (`/admin/artifacts`, api-ops.md §6): releases (upload with progress, status
// edit, assign to a user or as the tenant default), the assignments in force, and the
// download audit paged by the server.

import { useMemo, useState } from 'react';
import { Button, Card, Form, Select, Table, Tag, Tooltip } from 'antd';
import { CloudUploadOutlined, EditOutlined, SendOutlined, ReloadOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { artifactsApi, RELEASE_STATUSES, type Assignment, type DownloadAuditRow, type Release, type ReleaseStatus } from '../../api/artifacts';
import { usersApi, type TenantUser } from '../../api/users';
import AdminGate from '../../components/AdminGate';
import EntityDialog from '../../components/crud/EntityDialog';
import ListTable from '../../components/crud/ListTable';
import LoadError, { firstLoad } from '../../components/crud/LoadError';
import PageHeader from '../../components/crud/PageHeader';
import { CopyButton, IconAction } from '../../components/crud/cells';
import { useListTable } from '../../components/crud/useListTable';
import { formatDateTime } from '../../format';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { formatBytes } from './format';
import UploadDialog from './UploadDialog';

const T = S.artifacts;
const POLL_MS = 15_000;
const DEFAULT_USER = '';

const STATUS_COLOR: Record<string, string> = { active: 'success', draft: 'processing', disabled: 'warning', archived: 'default' };
const RESULT_COLOR: Record<string, string> = { allowed: 'success', denied: 'error', error: 'warning' };

interface Loaded {
  releases: Release[];
  assignments: Assignment[];
  users: TenantUser[];
}

const loadAll = async (): Promise<Loaded> => {
  const [releases, assignments, users] = await Promise.all([
    artifactsApi.releases(),
    artifactsApi.assignments(),
    usersApi.list(),
  ]);
  return { releases, assignments, users };
};

const releaseName = (r: Pick<Release, 'module' | 'version'>) => `${r.module} ${r.version}`;

function Artifacts() {
  const data = usePolling(loadAll, POLL_MS);
  const [uploading, setUploading] = useState(false);
  const [editing, setEditing] = useState<Release | null>(null);
  const [assigning, setAssigning] = useState<Release | null>(null);
  const releases = data.data?.releases ?? [];
  const assignments = data.data?.assignments ?? [];
  const users = data.data?.users ?? [];
  const byId = useMemo(() => new Map(releases.map((r) => [r.id, r])), [releases]);
  const email = (id: string | null | undefined) => (id ? (users.find((u) => u.id === id)?.email ?? id) : '');
  const { loading, failed } = firstLoad(data);

  const audit = useListTable<DownloadAuditRow>({
    load: (st) => artifactsApi.audit(st.page, st.limit),
    rowKey: (r) => String(r.id),
    defaultLimit: 25,
    paramPrefix: 'audit_',
  });

  const releaseColumns: ColumnsType<Release> = [
    { key: 'module', title: T.colModule, dataIndex: 'module', sorter: (a, b) => a.module.localeCompare(b.module) },
    { key: 'version', title: T.colVersion, dataIndex: 'version' },
    { key: 'platform', title: T.colPlatform, dataIndex: 'platform' },
    { key: 'channel', title: T.colChannel, dataIndex: 'channel' },
    { key: 'size', title: T.colSize, align: 'right', render: (_, r) => formatBytes(r.size_bytes) },
    {
      key: 'sha',
      title: T.colSha,
      render: (_, r) => (
        <span>
          <Tooltip title={r.sha256}>
            <span className="bm-mono bm-admin-sha">{r.sha256}</span>
          </Tooltip>
          <CopyButton text={r.sha256} />
        </span>
      ),
    },
    { key: 'status', title: T.colStatus, render: (_, r) => <Tag color={STATUS_COLOR[r.status]}>{T.statuses[r.status] ?? r.status}</Tag> },
    { key: 'created', title: T.colCreated, render: (_, r) => formatDateTime(r.created_at) },
    {
      key: 'actions',
      title: T.colActions,
      width: 80,
      render: (_, r) => (
        <>
          <IconAction title={T.edit} icon={<EditOutlined />} onClick={() => setEditing(r)} testId={`release-edit-${r.id}`} />
          <IconAction title={T.assign} icon={<SendOutlined />} onClick={() => setAssigning(r)} testId={`release-assign-${r.id}`} />
        </>
      ),
    },
  ];

  const assignmentColumns: ColumnsType<Assignment> = [
    { key: 'scope', title: T.colModule, render: (_, a) => `${a.module} · ${a.platform} · ${a.channel}` },
    {
      key: 'user',
      title: T.colUser,
      render: (_, a) => (a.is_default ? <Tag>{T.defaultUser}</Tag> : email(a.user_id)),
    },
    {
      key: 'release',
      title: T.colRelease,
      render: (_, a) => {
        const r = byId.get(a.release_id);
        return r ? (
          <>
            {releaseName(r)} <Tag color={STATUS_COLOR[r.status]}>{T.statuses[r.status]}</Tag>
          </>
        ) : (
          T.releaseGone(a.release_id)
        );
      },
    },
    { key: 'updated', title: T.colUpdated, render: (_, a) => formatDateTime(a.updated_at) },
  ];

  const auditColumns: ColumnsType<DownloadAuditRow> = [
    { key: 'time', title: T.colTime, render: (_, r) => formatDateTime(r.created_at) },
    { key: 'event', title: T.colEvent, render: (_, r) => <span className="bm-mono">{r.event_type}</span> },
    { key: 'result', title: T.colResult, render: (_, r) => <Tag color={RESULT_COLOR[r.result]}>{r.result}</Tag> },
    { key: 'user', title: T.colUser, render: (_, r) => email(r.user_id) || '—' },
    {
      key: 'release',
      title: T.colRelease,
      render: (_, r) => {
        const rel = r.release_id ? byId.get(r.release_id) : undefined;
        return rel ? releaseName(rel) : (r.module ?? '—');
      },
    },
    { key: 'vm', title: T.colVm, render: (_, r) => <span className="bm-mono">{r.vm_uuid ?? '—'}</span> },
    { key: 'ip', title: T.colIp, render: (_, r) => <span className="bm-mono">{r.request_ip ?? '—'}</span> },
    { key: 'reason', title: T.colReason, render: (_, r) => r.reason ?? '' },
  ];

  const refreshAll = () => {
    data.refresh();
    audit.refresh();
  };

  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader
          id="artifacts"
          icon={<CloudUploadOutlined />}
          title={T.title}
          subtitle={T.subtitle}
          actions={
            <>
              <Button icon={<ReloadOutlined />} onClick={refreshAll}>
                {T.refresh}
              </Button>
              <Button type="primary" icon={<CloudUploadOutlined />} onClick={() => setUploading(true)}>
                {T.upload}
              </Button>
            </>
          }
          statsLoading={!data.data}
          stats={[
            { label: T.statReleases, value: releases.length },
            { label: T.statActive, value: releases.filter((r) => r.status === 'active').length, tone: 'success' },
            { label: T.statAssignments, value: assignments.length, tone: 'info' },
          ]}
        />
        <Card className="bm-card bm-admin-card" size="small" title={T.releases}>
          {data.error ? <LoadError error={data.error} retry={data.refresh} /> : null}
          <Table<Release>
            size="small"
            rowKey="id"
            columns={releaseColumns}
            dataSource={releases}
            loading={loading}
            pagination={{ defaultPageSize: 10, size: 'small', hideOnSinglePage: true, showSizeChanger: true }}
            locale={{ emptyText: failed ?? T.releasesEmpty }}
            scroll={{ x: 'max-content' }}
            data-testid="releases-table"
          />
        </Card>
        <Card className="bm-card bm-admin-card" size="small" title={T.assignments}>
          <Table<Assignment>
            size="small"
            rowKey="id"
            columns={assignmentColumns}
            dataSource={assignments}
            loading={loading}
            pagination={{ defaultPageSize: 10, size: 'small', hideOnSinglePage: true }}
            locale={{ emptyText: failed ?? T.assignmentsEmpty }}
            scroll={{ x: 'max-content' }}
            data-testid="assignments-table"
          />
        </Card>
        <Card className="bm-card bm-admin-card" size="small" title={T.audit}>
          <ListTable<DownloadAuditRow> table={audit} columns={auditColumns} noun={T.events} emptyText={T.auditEmpty} pageSizes={[25, 50, 100]} testId="download-audit" />
        </Card>
        <UploadDialog open={uploading} onClose={() => setUploading(false)} onUploaded={refreshAll} />
        <EntityDialog<{ status: ReleaseStatus }>
          open={editing !== null}
          title={editing ? T.editTitle(releaseName(editing)) : ''}
          initialValues={{ status: editing?.status }}
          successMessage={T.saved}
          onClose={() => setEditing(null)}
          onSubmit={async (v) => {
            await artifactsApi.setStatus(editing!.id, v.status);
            data.refresh();
          }}
          testId="release-edit"
        >
          <Form.Item name="status" label={T.status} extra={T.statusHelp} rules={[{ required: true }]}>
            <Select options={RELEASE_STATUSES.map((s) => ({ value: s, label: T.statuses[s] }))} />
          </Form.Item>
        </EntityDialog>
        <EntityDialog<{ user_id: string }>
          open={assigning !== null}
          title={assigning ? T.assignTitle(`${releaseName(assigning)} (${assigning.platform}, ${assigning.channel})`) : ''}
          okText={T.assign}
          initialValues={{ user_id: DEFAULT_USER }}
          successMessage={T.assigned}
          onClose={() => setAssigning(null)}
          onSubmit={async (v) => {
            const r = assigning!;
            await artifactsApi.assign({
              user_id: v.user_id === DEFAULT_USER ? undefined : v.user_id,
              module: r.module,
              platform: r.platform,
              channel: r.channel,
              release_id: r.id,
            });
            refreshAll();
          }}
          testId="release-assign"
        >
          <Form.Item name="user_id" label={T.assignUser} extra={T.assignHelp}>
            <Select
              showSearch
              optionFilterProp="label"
              options={[{ value: DEFAULT_USER, label: T.assignDefault }, ...users.map((u) => ({ value: u.id, label: u.email }))]}
            />
          </Form.Item>
        </EntityDialog>
      </div>
    </div>
  );
}

export default function ArtifactsPage() {
  return (
    <AdminGate>
      <Artifacts />
    </AdminGate>
  );
}
