// Archive (`/archive/banned`, web-ui.md §2.14): the bots banned now, with
// their ban details and Unban, and the snapshots taken at each ban.

import { useCallback } from 'react';
import { Link } from 'react-router';
import { App, Button, Tag } from 'antd';
import { InboxOutlined, UndoOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { botsApi, type ArchivedBot, type Bot } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { FilterBar, ListTable, PageHeader, useListTable, type TableState } from '../../components/crud';
import { formatDateTime } from '../../format';
import { S } from '../../strings';
import { id8, useProjectName } from '../../models/bots';

const A = S.archive;
const B = S.bot;

/** Column keys whose values live in nested fields. */
const SORT_PATHS: Record<string, string> = {
  ban_date: 'lifecycle.ban_details.ban_timestamp',
  character: 'character.name',
};

const mechanism = (m?: string) => (m ? (B.mechanisms as Record<string, string>)[m] ?? m : '—');

export default function ArchivePage() {
  const projectName = useProjectName();
  const { message, modal } = App.useApp();

  // The server filters, searches (ban reason included) and sorts by nested paths.
  const loadBanned = useCallback(
    (s: TableState) =>
      botsApi.page({ ...s, sort: s.sort ? (SORT_PATHS[s.sort] ?? s.sort) : undefined, filters: { status: 'banned' } }),
    [],
  );
  const banned = useListTable<Bot>({
    load: loadBanned,
    rowKey: (b) => b.id,
    defaultLimit: 15,
    defaultSort: { sort: 'ban_date', order: 'desc' },
    pollMs: 10_000,
    paramPrefix: 'b_',
  });
  const history = useListTable<ArchivedBot>({
    load: (s) => botsApi.archive({ page: s.page, limit: s.limit }),
    rowKey: (a) => String(a.id),
    defaultLimit: 10,
    paramPrefix: 'h_',
  });

  const unban = (b: Bot) =>
    modal.confirm({
      title: B.unbanTitle,
      content: B.unbanText,
      okText: A.unban,
      cancelText: S.crud.cancel,
      onOk: async () => {
        try {
          await botsApi.unban(b.id);
          message.success(B.unbanned);
          banned.refresh();
          history.refresh();
        } catch (e) {
          message.error(errorMessage(e));
        }
      },
    });

  const columns: ColumnsType<Bot> = [
    {
      key: 'id',
      title: A.colBot,
      sorter: true,
      render: (_, b) => (
        <Link to={`/bot/${encodeURIComponent(b.id)}`} className="bm-mono">
          {id8(b.id)}
        </Link>
      ),
    },
    { key: 'project_id', title: A.colProject, sorter: true, render: (_, b) => (b.project_id ? <Tag>{projectName(b.project_id)}</Tag> : '—') },
    {
      key: 'character',
      title: A.colCharacter,
      sorter: true,
      render: (_, b) => `${b.character?.name ?? B.unnamed}${b.character?.level ? ` (${b.character.level})` : ''}`,
    },
    { key: 'ban_date', title: A.colBanDate, sorter: true, render: (_, b) => b.lifecycle?.ban_details?.ban_date ?? '—' },
    { key: 'reason', title: A.colReason, render: (_, b) => b.lifecycle?.ban_details?.ban_reason ?? '—' },
    { key: 'mechanism', title: A.colMechanism, render: (_, b) => mechanism(b.lifecycle?.ban_details?.ban_mechanism) },
    {
      key: 'actions',
      title: A.colActions,
      render: (_, b) => (
        <Button size="small" icon={<UndoOutlined />} onClick={() => unban(b)}>
          {A.unban}
        </Button>
      ),
    },
  ];

  const historyColumns: ColumnsType<ArchivedBot> = [
    { key: 'archived_at', title: A.colArchived, render: (_, a) => formatDateTime(a.archived_at) },
    {
      key: 'bot',
      title: A.colBot,
      render: (_, a) => (
        <Link to={`/bot/${encodeURIComponent(a.bot_id)}`} className="bm-mono">
          {id8(a.bot_id)}
        </Link>
      ),
    },
    { key: 'character', title: A.colCharacter, render: (_, a) => a.snapshot?.character?.name ?? B.unnamed },
    { key: 'ban_date', title: A.colBanDate, render: (_, a) => a.ban_details?.ban_date ?? '—' },
    { key: 'reason', title: A.colReason, render: (_, a) => a.ban_details?.ban_reason ?? '—' },
    { key: 'mechanism', title: A.colMechanism, render: (_, a) => mechanism(a.ban_details?.ban_mechanism) },
  ];

  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader id="archive" icon={<InboxOutlined />} title={A.title} subtitle={A.subtitle} />
        <h3 className="bm-section-title bm-archive-head">{A.current}</h3>
        <FilterBar table={banned} placeholder={A.search} />
        <ListTable table={banned} columns={columns} noun={A.noun} emptyText={A.empty} testId="banned-table" />
        <h3 className="bm-section-title bm-archive-head">{A.history}</h3>
        <ListTable table={history} columns={historyColumns} noun={A.nounHistory} emptyText={A.emptyHistory} testId="archive-table" />
      </div>
    </div>
  );
}
