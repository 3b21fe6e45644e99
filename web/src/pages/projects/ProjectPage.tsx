// Project bot list (`/project/:id`, web-ui.md §2.2): stats by lifecycle status and by
// presence, search, filters for both (`?status=`, `?presence=`), sortable columns linking
// into the bot page, add bot, bulk status change and delete.
//
// The server filters by project, lifecycle status and presence, searches nested
// fields (character, account) and pages; the resource cells come from the
// resources linked to the bots on the page. Only a sort by a resource column
// (worst state, computed here) takes the project's filtered bots whole.

import { useCallback, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { App, Button, Dropdown, Form, Input, InputNumber, Select, Tooltip } from 'antd';
import { DeleteOutlined, PlusOutlined, ProfileOutlined, SwapOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { botsApi, type Bot, type BotStatus } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { licensesApi, proxiesApi, subscriptionsApi } from '../../api/resources';
import {
  BulkBar,
  EntityDialog,
  FilterBar,
  ListTable,
  PageHeader,
  daysLeft,
  localPage,
  runBulk,
  useDeleteAction,
  useListTable,
  type TableState,
  type Tone,
} from '../../components/crud';
import type { ListQuery } from '../../api/lists';
import { LIVE_FALLBACK_MS, useLive } from '../../hooks';
import { S } from '../../strings';
import {
  activeCount,
  fleetCounts,
  PresenceBadge,
  StatusBadge,
  id8,
  presenceOf,
  presenceOptions,
  projectList,
  statusOptions,
  storedStatus,
  useProjectSettings,
  type Presence,
} from '../../models/bots';
import { usePolicy } from '../../policy';
import { ADD_FIRST_BOT } from '../overview/GettingStarted';
import { SEVERITY, STATE_TONE, licenseState, proxyState, subscriptionState, worst, type ResourceState } from '../../models/expiry';
import { useExpiryWindows, type ExpiryWindows } from '../../models/resourceStats';

const P = S.project;
/** What a row shows: the bot and its resources; the list reloads when one of them changes. */
const LIST_TOPICS = ['bots', 'licenses', 'proxies', 'subscriptions'];
/** Statuses a bulk change may set (a ban needs its dialog). */
const SETTABLE: BotStatus[] = ['offline', 'prepare', 'leveling', 'profession', 'farming'];

interface ResourceCell {
  state: ResourceState;
  days?: number;
}

interface Row {
  bot: Bot;
  status: BotStatus;
  /** Undefined until the server's offline window is known. */
  presence?: Presence;
  license?: ResourceCell;
  proxy?: ResourceCell;
  subscription?: ResourceCell;
}

interface NewBot {
  name: string;
  character_name: string;
  level: number;
  server: string;
  faction?: string;
  race: string;
  class: string;
  email: string;
  status: BotStatus;
}

function cellOf(states: { state: ResourceState; expires?: number }[]): ResourceCell | undefined {
  const w = worst(states.map((s) => s.state));
  if (!w) return undefined;
  const nearest = states
    .filter((s) => s.state === w && typeof s.expires === 'number')
    .map((s) => s.expires!)
    .sort((a, b) => a - b)[0];
  return { state: w, days: daysLeft(nearest) };
}

/** Ids per request: the server takes at most 50 alternatives in a filter. */
const ID_CHUNK = 50;

/** The resources linked to any of `ids`, one filtered request per chunk. */
async function linked<T>(ids: string[], field: string, all: (q: Omit<ListQuery, 'page' | 'limit'>) => Promise<T[]>): Promise<T[]> {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += ID_CHUNK) chunks.push(ids.slice(i, i + ID_CHUNK));
  return (await Promise.all(chunks.map((c) => all({ filters: { [field]: c.join(',') } })))).flat();
}

async function rowsOf(bots: Bot[], windows: ExpiryWindows, offlineAfterMs: number | undefined): Promise<Row[]> {
  const ids = bots.map((b) => b.id);
  const [licenses, proxies, subs] = ids.length
    ? await Promise.all([
        linked(ids, 'bot_ids', licensesApi.all),
        linked(ids, 'bot_id', proxiesApi.all),
        linked(ids, 'bot_id', subscriptionsApi.all),
      ])
    : [[], [], []];
  const now = Date.now();
  return bots.map((bot) => ({
      bot,
      status: storedStatus(bot),
      presence: offlineAfterMs === undefined ? undefined : presenceOf(bot, offlineAfterMs, now),
      license: cellOf(
        licenses.filter((l) => l.bot_ids?.includes(bot.id)).map((l) => ({ state: licenseState(l, windows.licenses, now), expires: l.expires_at })),
      ),
      proxy: cellOf(proxies.filter((p) => p.bot_id === bot.id).map((p) => ({ state: proxyState(p, windows.proxies, now), expires: p.expires_at }))),
      subscription: cellOf(
        subs.filter((s) => s.bot_id === bot.id).map((s) => ({ state: subscriptionState(s, windows.subscriptions, now), expires: s.expires_at })),
      ),
    }));
}

const severity = (c?: ResourceCell) => (c ? SEVERITY[c.state] : -1);
/** Sorts by a resource column's worst state, done here. */
const RESOURCE_SORT: Record<string, (r: Row) => number> = {
  license: (r) => severity(r.license),
  proxy: (r) => severity(r.proxy),
  subscription: (r) => severity(r.subscription),
};
/** Column keys the server sorts by another (nested) field. */
const SORT_PATHS: Record<string, string> = { vm: 'name', account: 'account.email', character: 'character.name' };


const TONE_TEXT: Record<Tone, string> = {
  default: '',
  success: 'bm-tone-success',
  warning: 'bm-tone-warning',
  danger: 'bm-tone-danger',
  info: 'bm-tone-info',
  muted: 'bm-tone-muted',
};

function Resource({ cell, to }: { cell?: ResourceCell; to: string }) {
  if (!cell) return <Link to={to} className="bm-muted">{S.resourceState.none}</Link>;
  const label = cell.state === 'expiring' ? S.resourceState.expiring : S.resourceState[cell.state];
  return (
    <Link to={to}>
      <span className={`bm-tone-text ${TONE_TEXT[STATE_TONE[cell.state]]}`}>{label}</span>
      {cell.days !== undefined && cell.state !== 'banned' ? <span className="bm-sub">{S.resourceState.daysLeft(cell.days)}</span> : null}
    </Link>
  );
}

export default function ProjectPage() {
  const { id: projectId = '' } = useParams();
  const { message, modal } = App.useApp();
  const settings = useProjectSettings();
  const windows = useExpiryWindows();
  const policy = usePolicy();
  const offlineAfterMs = policy?.offlineAfterMs;
  const navigate = useNavigate();
  const [params] = useSearchParams();
  // `?add=first` comes from the Overview's first-run steps: open "Add bot", then go back there.
  const firstRun = params.get('add') === ADD_FIRST_BOT;
  const [adding, setAdding] = useState(firstRun);

  const load = useCallback(
    async (s: TableState) => {
      const filters = { project_id: projectId, status: s.filters.status || undefined, presence: s.filters.presence || undefined };
      if (s.sort && RESOURCE_SORT[s.sort]) {
        const bots = await botsApi.all({ q: s.q, filters });
        return localPage(await rowsOf(bots, windows, offlineAfterMs), { ...s, q: '' }, { sortValue: RESOURCE_SORT });
      }
      const page = await botsApi.page({ ...s, sort: s.sort ? (SORT_PATHS[s.sort] ?? s.sort) : undefined, filters });
      return { items: await rowsOf(page.items, windows, offlineAfterMs), total: page.total };
    },
    [projectId, windows, offlineAfterMs],
  );
  // The stat cards: the tenant's summary narrowed to this project.
  const counts = useLive(botsApi.summary, ['bots']);
  const table = useListTable<Row>({
    load,
    rowKey: (r) => r.bot.id,
    filterKeys: ['status', 'presence'],
    pollMs: LIVE_FALLBACK_MS,
    topics: LIST_TOPICS,
  });

  const refresh = () => {
    table.refresh();
    counts.refresh();
  };

  const projectName = projectList(settings.data).find((p) => p.id === projectId)?.name ?? projectId;
  const c = counts.data ? fleetCounts(counts.data, projectId) : undefined;
  const [total, active, prepare, idle, banned, online, offline, neverSeen] = c
    ? [c.total, activeCount(c), c.byStatus.prepare, c.byStatus.offline, c.byStatus.banned, c.byPresence.online, c.byPresence.offline, c.byPresence.never_seen]
    : [];

  const remove = useDeleteAction<Row>({
    remove: (r) => botsApi.remove(r.bot.id),
    confirm: (r) => ({ title: P.deleteTitle, content: P.deleteText(id8(r.bot.id)) }),
    label: (r) => P.account(id8(r.bot.id)),
    onChange: refresh,
  });

  const bulkStatus = async (status: BotStatus) => {
    const targets = table.selectedRows.filter((r) => r.bot.status !== 'banned');
    if (targets.length < table.selectedRows.length) message.info(P.bulkBanned);
    const { ok, failed } = await runBulk(targets, (r) => botsApi.transition(r.bot.id, status));
    (failed ? message.warning : message.success)(S.crud.bulkDone(ok, failed));
    table.setSelected([]);
    refresh();
  };

  const bulkDelete = () => {
    const targets = table.selectedRows;
    modal.confirm({
      title: P.bulkDeleteTitle(targets.length),
      content: P.bulkDeleteText,
      okText: S.crud.deleteConfirm,
      okButtonProps: { danger: true },
      cancelText: S.crud.cancel,
      autoFocusButton: 'cancel',
      onOk: async () => {
        const { ok, failed } = await runBulk(targets, (r) => botsApi.remove(r.bot.id));
        (failed ? message.warning : message.success)(S.crud.bulkDone(ok, failed));
        table.setSelected([]);
        refresh();
      },
    });
  };

  const botUrl = (b: Bot, tab: string, subtab?: string) =>
    `/bot/${encodeURIComponent(b.id)}?tab=${tab}${subtab ? `&subtab=${subtab}` : ''}`;

  const columns: ColumnsType<Row> = [
    {
      key: 'id',
      title: P.colId,
      sorter: true,
      render: (_, r) => (
        <Tooltip title={r.bot.id}>
          <Link to={botUrl(r.bot, 'summary')} className="bm-mono">
            {id8(r.bot.id)}
          </Link>
        </Tooltip>
      ),
    },
    {
      key: 'status',
      title: P.colStatus,
      sorter: true,
      render: (_, r) => (
        <Link to={botUrl(r.bot, 'summary')}>
          <StatusBadge status={r.status} />
        </Link>
      ),
    },
    {
      key: 'presence',
      title: S.presenceLabel,
      // Rows loaded before the server's offline window arrived have no presence yet: worked out here.
      render: (_, r) => {
        const presence = r.presence ?? (offlineAfterMs === undefined ? undefined : presenceOf(r.bot, offlineAfterMs, Date.now()));
        return presence ? <PresenceBadge presence={presence} /> : null;
      },
    },
    { key: 'vm', title: P.colVm, sorter: true, render: (_, r) => <Link to={botUrl(r.bot, 'vm')}>{r.bot.name || '-'}</Link> },
    {
      key: 'account',
      title: P.colAccount,
      sorter: true,
      render: (_, r) => (
        <Link to={botUrl(r.bot, 'configure', 'account')}>
          {r.bot.account?.email || '-'}
          {r.bot.account?.password ? <span className="bm-sub bm-mono">{r.bot.account.password}</span> : null}
        </Link>
      ),
    },
    {
      key: 'character',
      title: P.colCharacter,
      sorter: true,
      render: (_, r) => {
        const c = r.bot.character ?? {};
        const side = c.faction === 'horde' ? 'H' : c.faction === 'alliance' ? 'A' : '';
        return (
          <Link to={botUrl(r.bot, 'configure', 'character')}>
            {c.name || S.bot.unnamed}
            {c.level ? ` (${c.level})` : ''}
            <span className="bm-sub">{[c.server, side].filter(Boolean).join(' • ')}</span>
          </Link>
        );
      },
    },
    { key: 'license', title: P.colLicense, sorter: true, render: (_, r) => <Resource cell={r.license} to={botUrl(r.bot, 'resources', 'license')} /> },
    { key: 'proxy', title: P.colProxy, sorter: true, render: (_, r) => <Resource cell={r.proxy} to={botUrl(r.bot, 'resources', 'proxy')} /> },
    {
      key: 'subscription',
      title: P.colSubscription,
      sorter: true,
      render: (_, r) => <Resource cell={r.subscription} to={botUrl(r.bot, 'resources', 'subscription')} />,
    },
    {
      key: 'action',
      title: P.colAction,
      render: (_, r) => (
        <Button size="small" danger type="text" icon={<DeleteOutlined />} onClick={() => remove(r)}>
          {S.crud.delete}
        </Button>
      ),
    },
  ];

  const create = async (v: NewBot) => {
    await botsApi.create({
      project_id: projectId,
      name: v.name?.trim() || undefined,
      status: v.status,
      character: {
        name: v.character_name?.trim() || undefined,
        level: v.level,
        server: v.server?.trim() || undefined,
        faction: v.faction,
        race: v.race?.trim() || undefined,
        class: v.class?.trim() || undefined,
      },
      account: v.email?.trim() ? { email: v.email.trim() } : undefined,
    });
    if (firstRun) navigate('/');
    else refresh();
  };

  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader
          id="project"
          icon={<ProfileOutlined />}
          title={<span data-testid="project-title">{projectName}</span>}
          subtitle={P.subtitle}
          statsLoading={!counts.data}
          stats={[
            { label: P.total, value: total ?? 0, testId: 'stat-total' },
            { label: P.active, value: active ?? 0, tone: 'success', testId: 'stat-active' },
            { label: S.botStatus.prepare, value: prepare ?? 0, tone: 'info', testId: 'stat-prepare' },
            { label: S.botStatus.offline, value: idle ?? 0, tone: 'muted' },
            { label: S.botStatus.banned, value: banned ?? 0, tone: 'danger' },
            { label: S.presence.online, value: online ?? 0, tone: 'success', testId: 'stat-online' },
            { label: S.presence.offline, value: offline ?? 0, tone: 'muted', testId: 'stat-offline' },
            { label: S.presence.never_seen, value: neverSeen ?? 0, tone: 'muted', testId: 'stat-never-seen' },
          ]}
          actions={
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setAdding(true)}>
              {P.addBot}
            </Button>
          }
        />
        <FilterBar
          table={table}
          placeholder={P.search}
          selects={[
            { key: 'status', label: P.status, width: 180, options: statusOptions() },
            { key: 'presence', label: S.presenceLabel, width: 180, options: presenceOptions() },
          ]}
        />
        <BulkBar table={table}>
          <Dropdown
            trigger={['click']}
            menu={{
              items: SETTABLE.map((s) => ({ key: s, label: <StatusBadge status={s} /> })),
              onClick: ({ key }) => void bulkStatus(key as BotStatus).catch((e: unknown) => message.error(errorMessage(e))),
            }}
          >
            <Button size="small" icon={<SwapOutlined />}>
              {P.setStatus}
            </Button>
          </Dropdown>
          <Button size="small" danger icon={<DeleteOutlined />} onClick={bulkDelete}>
            {P.bulkDelete}
          </Button>
        </BulkBar>
        <ListTable table={table} columns={columns} noun={P.noun} emptyText={P.empty} emptyAction={<Button icon={<PlusOutlined />} onClick={() => setAdding(true)}>{S.crud.addFirst('bot')}</Button>} selectable testId="bots-table" />
      </div>
      <EntityDialog<NewBot>
        open={adding}
        title={P.createTitle}
        okText={S.crud.create}
        successMessage={P.created}
        fieldMap={{
          name: 'name',
          'character.name': 'character_name',
          'character.level': 'level',
          'character.server': 'server',
          'character.faction': 'faction',
          'character.race': 'race',
          'character.class': 'class',
          'account.email': 'email',
        }}
        initialValues={{ status: 'prepare', level: 1 }}
        onSubmit={create}
        onClose={() => setAdding(false)}
        testId="bot-dialog"
      >
        <div className="bm-form-grid">
          <Form.Item name="name" label={P.fieldVm}>
            <Input autoFocus />
          </Form.Item>
          <Form.Item name="status" label={P.fieldStatus}>
            <Select options={statusOptions(SETTABLE)} />
          </Form.Item>
          <Form.Item name="character_name" label={P.fieldCharacter}>
            <Input maxLength={24} />
          </Form.Item>
          <Form.Item name="level" label={P.fieldLevel}>
            <InputNumber min={1} style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item name="server" label={P.fieldServer}>
            <Input />
          </Form.Item>
          <Form.Item name="faction" label={P.fieldFaction}>
            <Select
              allowClear
              options={[
                { value: 'alliance', label: P.alliance },
                { value: 'horde', label: P.horde },
              ]}
            />
          </Form.Item>
          <Form.Item name="race" label={P.fieldRace}>
            <Input />
          </Form.Item>
          <Form.Item name="class" label={P.fieldClass}>
            <Input />
          </Form.Item>
        </div>
        <Form.Item name="email" label={P.fieldEmail}>
          <Input type="email" />
        </Form.Item>
      </EntityDialog>
    </div>
  );
}
