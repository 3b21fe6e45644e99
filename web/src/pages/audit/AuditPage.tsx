// Audit log (`/audit`, admins): every change to documents, settings and theme
// assets, newest first, as a "load older" list (the API pages by cursor).

import { useState } from 'react';
import { Alert, Button, Card, Result, Select, Table, Tag } from 'antd';
import { AuditOutlined } from '@ant-design/icons';
import { errorMessage } from '../../api/client';
import { MAX_LIMIT } from '../../api/lists';
import { useSession } from '../../api/session';
import { LoadOlder, useCursorList } from '../../components/CursorList';
import { PageHeader } from '../../components/crud';
import { formatDateTime } from '../../format';
import { S } from '../../strings';
import '../workspace/workspace.css';

const A = S.audit;
const SIZES = [25, 50, 100, MAX_LIMIT];

interface AuditEntry {
  seq: number;
  at: string;
  actor_id: string;
  actor_email: string;
  action: string;
  entity_type: string;
  entity_id: string;
  fields: string[];
}

const ACTION_COLOR: Record<string, string> = { create: 'green', update: 'blue', delete: 'red' };

function AuditLog() {
  const [limit, setLimit] = useState(50);
  const list = useCursorList<AuditEntry>('/audit', limit);
  const { items, loading, error } = list;

  return (
    <Card
      className="bm-card"
      size="small"
      extra={
        <Select
          size="small"
          aria-label={A.shown(limit)}
          value={limit}
          onChange={setLimit}
          options={SIZES.map((n) => ({ value: n, label: `${n} / page` }))}
        />
      }
      title={A.shown(items.length)}
    >
      {error ? (
        <Alert
          className="bm-ws-alert"
          type="error"
          showIcon
          message={S.ws.loadFailed}
          description={errorMessage(error)}
          action={
            <Button size="small" onClick={list.reload}>
              {S.common.retry}
            </Button>
          }
        />
      ) : null}
      <Table<AuditEntry>
        size="small"
        rowKey="seq"
        data-testid="audit-table"
        loading={loading}
        dataSource={items}
        pagination={false}
        locale={{ emptyText: A.empty }}
        scroll={{ x: 'max-content' }}
        columns={[
          { key: 'at', title: A.colTime, dataIndex: 'at', render: formatDateTime },
          { key: 'actor', title: A.colActor, dataIndex: 'actor_email' },
          {
            key: 'action',
            title: A.colAction,
            dataIndex: 'action',
            render: (v: string) => <Tag color={ACTION_COLOR[v]}>{v}</Tag>,
          },
          { key: 'entity', title: A.colEntity, dataIndex: 'entity_type' },
          { key: 'id', title: A.colId, dataIndex: 'entity_id', render: (v: string) => <span className="bm-mono">{v}</span> },
          {
            key: 'fields',
            title: A.colFields,
            dataIndex: 'fields',
            render: (v: string[]) => <span className="bm-mono">{(v ?? []).join(', ')}</span>,
          },
        ]}
      />
      <LoadOlder list={list} more={A.loadOlder} end={A.end} />
    </Card>
  );
}

export default function AuditPage() {
  const session = useSession();
  const admin = session?.user.roles.includes('admin') ?? false;
  return (
    <div className="bm-ws-page">
      <PageHeader id="audit" icon={<AuditOutlined />} title={A.title} subtitle={A.subtitle} />
      {admin ? <AuditLog /> : <Result status="403" title={A.title} subTitle={A.adminOnly} />}
    </div>
  );
}
