// Subscriptions (`/subscriptions`, web-ui.md §2.6): expiring alert, stats,
// filters, server-paged table, add/edit dialog, delete with undo.

import { useState } from 'react';
import { Alert, Button, Tag } from 'antd';
import { CreditCardOutlined, DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { subscriptionsApi, type Subscription } from '../../api/resources';
import {
  DaysLeft,
  FilterBar,
  IconAction,
  ListTable,
  PageHeader,
  daysLeft,
  formatDate,
  useDeleteAction,
  useListTable,
} from '../../components/crud';
import { S } from '../../strings';
import { BotRef, botLabel, useBotIndex } from '../../models/bots';
import { STATE_COLOR, stateLabel, subscriptionState, type ResourceState } from '../../models/expiry';
import SubscriptionDialog from './SubscriptionDialog';
import { useAllOf, useExpiryWindows } from '../../models/resourceStats';

const T = S.subscriptions;
const ALERT_ROWS = 5;

function stateText(s: ResourceState, days: number | undefined): string {
  return s === 'expiring' ? T.expiringDays(days ?? 0) : stateLabel(s);
}

export default function SubscriptionsPage() {
  const all = useAllOf(subscriptionsApi.all);
  const bots = useBotIndex();
  const warnDays = useExpiryWindows().subscriptions;
  const state = (s: Subscription) => subscriptionState(s, warnDays);

  const table = useListTable<Subscription>({
    // `state` on the server uses settings alerts.warning_days, like the badges here.
    load: (st) => subscriptionsApi.page({ ...st, filters: { state: st.filters.status || undefined } }),
    rowKey: (s) => s.id,
    defaultLimit: 10,
    filterKeys: ['status'],
    pollMs: 7_000,
  });
  const [editing, setEditing] = useState<Subscription | 'new' | null>(null);
  const refresh = () => {
    table.refresh();
    all.refresh();
  };

  const items = all.data ?? [];
  const count = (s: ResourceState) => items.filter((x) => state(x) === s).length;
  const expiring = items
    .filter((x) => state(x) === 'expiring')
    .sort((a, b) => (a.expires_at ?? 0) - (b.expires_at ?? 0));
  const botName = (id?: string) => (id ? botLabel(bots.data?.get(id), id) : '—');

  const remove = useDeleteAction<Subscription>({
    remove: (s) => subscriptionsApi.remove(s.id),
    recreate: (s) => subscriptionsApi.create(s),
    confirm: (s) => ({ title: T.deleteTitle, content: T.deleteText(s.type ?? 'wow', botName(s.bot_id)) }),
    label: (s) => T.label(s.type ?? 'wow'),
    onChange: refresh,
  });

  const columns: ColumnsType<Subscription> = [
    {
      key: 'status',
      title: T.colStatus,
      render: (_, s) => {
        const st = state(s);
        return <Tag color={STATE_COLOR[st]}>{stateText(st, daysLeft(s.expires_at)).toUpperCase()}</Tag>;
      },
    },
    { key: 'type', title: T.colType, sorter: true, render: (_, s) => (s.type ?? 'wow').toUpperCase() },
    {
      key: 'bot_id',
      title: T.colBot,
      sorter: true,
      render: (_, s) =>
        s.bot_id ? (
          <>
            <BotRef id={s.bot_id} bot={bots.data?.get(s.bot_id)} />
            {s.account_email ? <span className="bm-sub">{s.account_email}</span> : null}
          </>
        ) : (
          <span className="bm-muted">{S.crud.none}</span>
        ),
    },
    { key: 'expires_at', title: T.colExpires, sorter: true, render: (_, s) => formatDate(s.expires_at) },
    { key: 'created_at', title: T.colCreated, sorter: true, render: (_, s) => formatDate(s.created_at) },
    { key: 'days', title: T.colDaysLeft, render: (_, s) => <DaysLeft expiresAt={s.expires_at} /> },
    {
      key: 'actions',
      title: T.colActions,
      render: (_, s) => (
        <span className="bm-actions">
          <IconAction title={S.crud.edit} icon={<EditOutlined />} onClick={() => setEditing(s)} />
          <IconAction title={S.crud.delete} icon={<DeleteOutlined />} danger onClick={() => remove(s)} />
        </span>
      ),
    },
  ];

  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader
          id="subscriptions"
          icon={<CreditCardOutlined />}
          title={T.title}
          subtitle={T.subtitle}
          statsLoading={!all.data && all.loading}
          stats={[
            { label: S.licenses.total, value: items.length, testId: 'stat-total' },
            { label: S.resourceState.active, value: count('active'), tone: 'success' },
            { label: S.resourceState.expiringSoon, value: count('expiring'), tone: 'warning' },
            { label: S.resourceState.expired, value: count('expired'), tone: 'danger' },
          ]}
          actions={
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
              {T.add}
            </Button>
          }
        />
        {expiring.length > 0 && (
          <Alert
            className="bm-page-alert"
            type="warning"
            showIcon
            message={T.expiringAlert(expiring.length)}
            description={
              <>
                {expiring.slice(0, ALERT_ROWS).map((s) => (
                  <div key={s.id}>
                    {T.expiringItem(botName(s.bot_id), s.type ?? 'wow', daysLeft(s.expires_at) ?? 0, formatDate(s.expires_at))}
                  </div>
                ))}
                {expiring.length > ALERT_ROWS ? <div>{T.more(expiring.length - ALERT_ROWS)}</div> : null}
              </>
            }
          />
        )}
        <FilterBar
          table={table}
          placeholder={T.search}
          selects={[
            {
              key: 'status',
              label: T.colStatus,
              options: (['active', 'expiring', 'expired', 'cancelled'] as const).map((s) => ({
                value: s,
                label: s === 'expiring' ? S.resourceState.expiringSoon : S.resourceState[s],
              })),
            },
          ]}
        />
        <ListTable table={table} columns={columns} noun={T.noun} emptyText={T.empty} emptyAction={<Button icon={<PlusOutlined />} onClick={() => setEditing('new')}>{S.crud.addFirst(T.noun[0])}</Button>} testId="subscriptions-table" />
      </div>
      <SubscriptionDialog
        open={editing !== null}
        current={editing && editing !== 'new' ? editing : undefined}
        bots={bots.data}
        onClose={() => setEditing(null)}
        onSaved={refresh}
      />
    </div>
  );
}
