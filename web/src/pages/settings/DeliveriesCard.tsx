// The notification delivery history (admins): every message tried on a channel, newest
// first, with its status, tries and the receiver's last refusal; the text opens below a row.

import { Alert, Button, Card, Table, Tag, Tooltip } from 'antd';
import { HistoryOutlined, ReloadOutlined } from '@ant-design/icons';
import { errorMessage } from '../../api/client';
import { LoadOlder, useCursorList } from '../../components/CursorList';
import { formatDateTime } from '../../format';
import { S } from '../../strings';
import './notifications.css';
import { DELIVERIES_PATH, EVENT_KEYS, type Delivery, type EventKey } from '../../api/notifications';

const N = S.notify;
const PAGE = 25;

const STATUS_COLOR: Record<Delivery['status'], string> = { pending: 'orange', sending: 'blue', sent: 'green', failed: 'red' };

const eventLabel = (e: string) =>
  (EVENT_KEYS as readonly string[]).includes(e) ? S.settingsPage.events[e as EventKey] : e === 'test' ? N.testEvent : e;

function Status({ d }: { d: Delivery }) {
  const tag = <Tag color={STATUS_COLOR[d.status]}>{N.status[d.status] ?? d.status}</Tag>;
  const hint = d.status === 'sent' && d.sent_at ? N.sentAt(formatDateTime(d.sent_at)) : d.status === 'pending' && d.next_attempt_at ? N.nextAttempt(formatDateTime(d.next_attempt_at)) : null;
  return hint ? <Tooltip title={hint}>{tag}</Tooltip> : tag;
}

/** `reloadKey`: changing it loads the newest page again (the page's Refresh, a test message). */
export default function DeliveriesCard({ reloadKey }: { reloadKey: number }) {
  const list = useCursorList<Delivery>(DELIVERIES_PATH, PAGE, reloadKey);
  return (
    <Card
      className="bm-card"
      size="small"
      data-testid="settings-deliveries"
      title={
        <span className="bm-card-title">
          <HistoryOutlined /> {N.deliveries}
        </span>
      }
      extra={
        <Button size="small" icon={<ReloadOutlined />} onClick={list.reload} loading={list.loading}>
          {N.refresh}
        </Button>
      }
    >
      <div className="bm-muted bm-set-help">{N.deliveriesHelp}</div>
      {list.error ? (
        <Alert className="bm-set-alert" type="error" showIcon message={S.ws.loadFailed} description={errorMessage(list.error)} />
      ) : null}
      <Table<Delivery>
        size="small"
        rowKey="id"
        data-testid="deliveries-table"
        loading={list.loading}
        dataSource={list.items}
        pagination={false}
        locale={{ emptyText: N.noDeliveries }}
        scroll={{ x: 'max-content' }}
        expandable={{ expandedRowRender: (d) => <div className="bm-notify-text">{d.text}</div> }}
        columns={[
          { key: 'time', title: N.colTime, dataIndex: 'created_at', render: formatDateTime },
          { key: 'channel', title: N.colChannel, dataIndex: 'channel', render: (c: Delivery['channel']) => N.channels[c] ?? c },
          { key: 'event', title: N.colEvent, dataIndex: 'event', render: eventLabel },
          { key: 'status', title: N.colStatus, render: (_, d) => <Status d={d} /> },
          { key: 'attempts', title: N.colAttempts, dataIndex: 'attempts', align: 'right' },
          {
            key: 'error',
            title: N.colError,
            dataIndex: 'last_error',
            render: (e: string | null) => (e ? <span className="bm-notify-error">{e}</span> : <span className="bm-muted">—</span>),
          },
        ]}
      />
      <LoadOlder list={list} more={N.loadOlder} end={N.end} />
    </Card>
  );
}
