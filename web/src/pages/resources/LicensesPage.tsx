// Licenses (`/licenses`, web-ui.md §2.4): stats, filters, a server-paged
// table, add/edit dialog, link and unlink bots, delete with undo.

import { useMemo, useState } from 'react';
import { App, Button, Form, Popover, Select, Tag } from 'antd';
import { CopyOutlined, DeleteOutlined, EditOutlined, KeyOutlined, PlusOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import dayjs, { type Dayjs } from 'dayjs';
import { errorMessage } from '../../api/client';
import { licensesApi, type License } from '../../api/resources';
import {
  DaysLeft,
  EntityDialog,
  FilterBar,
  IconAction,
  ListTable,
  PageHeader,
  formatDate,
  useDeleteAction,
  useListTable,
} from '../../components/crud';
import { S } from '../../strings';
import { BotRef, botLabel, useBotIndex } from '../../models/bots';
import { STATE_COLOR, licenseState, stateLabel, type ResourceState } from '../../models/expiry';
import { LicenseFields } from './ResourceForms';
import { useAllOf, useExpiryWindows } from '../../models/resourceStats';

const L = S.licenses;
const STATUS_FILTERS: ResourceState[] = ['active', 'expiring', 'expired', 'revoked'];

interface LicenseForm {
  key: string;
  type: string;
  expires: Dayjs;
  bot_ids: string[];
  revoked: boolean;
}


export default function LicensesPage() {
  const { message } = App.useApp();
  const all = useAllOf(licensesApi.all);
  const warnDays = useExpiryWindows().licenses;
  const bots = useBotIndex();
  const table = useListTable<License>({
    // The server computes the display state (`state`) with the same 3-day window.
    load: (s) => licensesApi.page({ ...s, filters: { state: s.filters.status || undefined, type: s.filters.type || undefined } }),
    rowKey: (l) => l.id,
    defaultLimit: 10,
    filterKeys: ['status', 'type'],
    pollMs: 7_000,
  });
  const [editing, setEditing] = useState<License | 'new' | null>(null);
  const refresh = () => {
    table.refresh();
    all.refresh();
  };

  const items = all.data ?? [];
  const types = useMemo(
    () => [...new Set(items.map((l) => (l.type ?? '').trim()).filter(Boolean))].sort(),
    [items],
  );
  const count = (s: ResourceState) => items.filter((l) => licenseState(l, warnDays) === s).length;

  const remove = useDeleteAction<License>({
    remove: (l) => licensesApi.remove(l.id),
    recreate: (l) => licensesApi.create(l),
    confirm: (l) => ({ title: L.deleteTitle, content: L.deleteText(l.key ?? l.id) }),
    label: (l) => L.label(l.key ?? l.id),
    onChange: refresh,
  });

  const setBots = async (l: License, ids: string[]) => {
    try {
      await licensesApi.patch(l.id, { bot_ids: ids });
      refresh();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const botOptions = [...(bots.data?.values() ?? [])].map((b) => ({ value: b.id, label: `${botLabel(b)} - ${b.id}` }));

  const columns: ColumnsType<License> = [
    {
      key: 'status',
      title: L.colStatus,
      sorter: true,
      render: (_, l) => {
        const s = licenseState(l, warnDays);
        return <Tag color={STATE_COLOR[s]}>{stateLabel(s)}</Tag>;
      },
    },
    {
      key: 'key',
      title: L.colKey,
      sorter: true,
      render: (_, l) => (
        <>
          <span className="bm-mono">{l.key}</span>
          <span className="bm-sub">{l.type}</span>
        </>
      ),
    },
    {
      key: 'bots',
      title: L.colBot,
      render: (_, l) => {
        const ids = l.bot_ids ?? [];
        // No bot yet: a dashed "Add Bot"; otherwise a small "+" next to the bots.
        const add = (
          <Select
            size="small"
            showSearch
            placeholder={ids.length ? <PlusOutlined /> : <><PlusOutlined /> {L.addBot}</>}
            suffixIcon={null}
            className={ids.length ? undefined : 'bm-add-dashed'}
            style={{ width: ids.length ? 34 : 96 }}
            popupMatchSelectWidth={320}
            aria-label={L.addBotTo(l.key ?? l.id)}
            value={null}
            optionFilterProp="label"
            options={botOptions.filter((o) => !ids.includes(o.value))}
            onChange={(id: string) => void setBots(l, [...ids, id])}
          />
        );
        const list = ids.map((id) => (
          <div key={id} className="bm-linked">
            <BotRef id={id} bot={bots.data?.get(id)} />
            <Button
              size="small"
              type="text"
              aria-label={`${S.bot.unassign} ${id}`}
              onClick={() => void setBots(l, ids.filter((x) => x !== id))}
            >
              ×
            </Button>
          </div>
        ));
        if (ids.length <= 1) return <span className="bm-linked">{list}{add}</span>;
        const first = bots.data?.get(ids[0]);
        return (
          <div>
            <span className="bm-linked">
              <Popover content={list} title={L.linkedBots(ids.length)} trigger="click">
                <Button size="small">{L.nBots(ids.length)}</Button>
              </Popover>
              {add}
            </span>
            <div className="bm-sub">{first ? botLabel(first) : ids[0]}</div>
          </div>
        );
      },
    },
    { key: 'expires_at', title: L.colExpires, sorter: true, render: (_, l) => formatDate(l.expires_at) },
    { key: 'created_at', title: L.colCreated, sorter: true, render: (_, l) => formatDate(l.created_at) },
    { key: 'days', title: L.colDaysLeft, render: (_, l) => <DaysLeft expiresAt={l.expires_at} /> },
    {
      key: 'actions',
      title: L.colActions,
      render: (_, l) => (
        <span className="bm-actions">
          <IconAction title={S.crud.edit} icon={<EditOutlined />} onClick={() => setEditing(l)} />
          <IconAction
            title={L.copyKey}
            icon={<CopyOutlined />}
            onClick={() => void navigator.clipboard?.writeText(l.key ?? '').then(() => message.success(L.keyCopied))}
          />
          <IconAction title={S.crud.delete} icon={<DeleteOutlined />} danger onClick={() => remove(l)} />
        </span>
      ),
    },
  ];

  const save = async (v: LicenseForm) => {
    const expires_at = v.expires.endOf('day').valueOf();
    const status = v.revoked ? 'revoked' : expires_at <= Date.now() ? 'expired' : 'active';
    const body = { key: v.key.trim(), type: v.type.trim(), expires_at, bot_ids: v.bot_ids ?? [], status };
    if (editing === 'new') await licensesApi.create(body);
    else if (editing) await licensesApi.patch(editing.id, body);
    refresh();
  };

  const current = editing && editing !== 'new' ? editing : undefined;
  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader
          id="licenses"
          icon={<KeyOutlined />}
          title={L.title}
          subtitle={L.subtitle}
          statsLoading={!all.data && all.loading}
          stats={[
            { label: L.total, value: items.length, testId: 'stat-total' },
            { label: S.resourceState.active, value: count('active'), tone: 'success' },
            { label: S.resourceState.expiringSoon, value: count('expiring'), tone: 'warning' },
            { label: S.resourceState.expired, value: count('expired'), tone: 'danger' },
            { label: S.resourceState.unassigned, value: items.filter((l) => !l.bot_ids?.length).length, tone: 'muted' },
          ]}
          actions={
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
              {L.add}
            </Button>
          }
        />
        <FilterBar
          table={table}
          placeholder={L.search}
          selects={[
            { key: 'status', label: L.colStatus, options: STATUS_FILTERS.map((s) => ({ value: s, label: stateLabel(s) })) },
            { key: 'type', label: L.type, options: types.map((t) => ({ value: t, label: t })) },
          ]}
        />
        <ListTable table={table} columns={columns} noun={L.noun} emptyText={L.empty} emptyAction={<Button icon={<PlusOutlined />} onClick={() => setEditing('new')}>{S.crud.addFirst(L.noun[0])}</Button>} testId="licenses-table" />
      </div>
      <EntityDialog<LicenseForm>
        open={editing !== null}
        title={current ? L.edit : L.add}
        okText={current ? S.crud.save : L.add}
        successMessage={current ? L.updated : L.created}
        fieldMap={{ expires_at: 'expires' }}
        initialValues={{
          key: current?.key ?? '',
          type: current?.type ?? types[0] ?? '',
          expires: dayjs(current?.expires_at ?? Date.now() + 30 * 86_400_000),
          bot_ids: current?.bot_ids ?? [],
          revoked: current?.status === 'revoked',
        }}
        onSubmit={save}
        onClose={() => setEditing(null)}
        testId="license-dialog"
      >
        <LicenseFields types={types} />
        <Form.Item name="bot_ids" label={L.bots}>
          <Select mode="multiple" allowClear showSearch optionFilterProp="label" options={botOptions} />
        </Form.Item>
        <Form.Item name="revoked" label={L.status}>
          <Select
            options={[
              { value: false, label: S.resourceState.active },
              { value: true, label: S.resourceState.revoked },
            ]}
          />
        </Form.Item>
      </EntityDialog>
    </div>
  );
}
