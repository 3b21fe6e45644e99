// Finance (web-ui.md §2.12): a toolbar period and project narrowing
// everything; totals per currency, income/expense per day and the gold price
// per project over the period with per-series settings
// (settings/finance/chart_config), project performance and cost structure,
// and the operations table (server paging, sorting, search and filters by
// period, type, category and project) with CSV export of the filtered rows.

import { Fragment, useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { App, Button, Card, Checkbox, Empty, Form, Input, InputNumber, Popover, Radio, Select, Skeleton, Space, Tabs, Tag, type FormInstance } from 'antd';
import { DeleteOutlined, DollarOutlined, DownloadOutlined, EditOutlined, PlusOutlined, SettingOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { errorMessage } from '../../api/client';
import { projectSettingsApi, type ProjectInfo } from '../../api/projects';
import {
  EntityDialog,
  FilterBar,
  IconAction,
  ListTable,
  PageHeader,
  StatCards,
  useDeleteAction,
  useListTable,
  type Stat,
  type TableState,
} from '../../components/crud';
import DateField from '../../components/DateField';
import LoadError from '../../components/crud/LoadError';
import { DAY_MS, formatDateTime } from '../../format';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { PALETTES } from '../../theme';
import '../workspace/workspace.css';
import './finance.css';
import {
  CURRENCIES,
  EXPENSE_CATEGORIES,
  INCOME_CATEGORIES,
  financeApi,
  localDay,
  type Breakdown,
  type DayStats,
  type Operation,
  type OpType,
} from '../../api/finance';
import DayChart, { type Series } from './Chart';
import Analysis, { periodFilters } from './Analysis';
import { settingsApi } from '../../api/settings';

const F = S.finance;
const STATS_POLL_MS = 30_000;
const TABLE_POLL_MS = 10_000;
const PRESETS = { d7: 7, d30: 30, d90: 90, d365: 365 } as const;
type Preset = keyof typeof PRESETS | 'custom';
const COLORS = { income: PALETTES.dark.success, expense: PALETTES.dark.danger, profit: PALETTES.dark.brandPrimary, net: PALETTES.dark.info };
const GOLD_COLORS = [PALETTES.dark.warning, PALETTES.dark.paused, PALETTES.dark.brandWarning, PALETTES.dark.info];

const pad = (n: number) => String(n).padStart(2, '0');
const localInput = (ms: number) => `${localDay(ms)}T${pad(new Date(ms).getHours())}:${pad(new Date(ms).getMinutes())}`;

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const grouped = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 0 });

/** "$5.50", "2 200 g"; other currencies as "12.00 EUR". */
export function money(v: number, currency: string): string {
  if (currency === 'USD') return usd.format(v);
  if (currency === 'gold') return `${grouped.format(v).replace(/\u202f|\u00a0/g, ' ')} g`;
  return `${v.toFixed(2)} ${currency}`;
}

/** RFC 4180 CSV of operations, with the table's columns. */
function toCsv(rows: Operation[], projectName: (id: string | null | undefined) => string): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = rows.map((r) =>
    [formatDateTime(r.date), r.type, categoryName(r.category), r.project_id ? projectName(r.project_id) : '', r.description ?? '',
      r.gold_amount ?? '', r.amount, r.currency].map(cell).join(','),
  );
  return [F.csvHeader.join(','), ...lines].join('\r\n') + '\r\n';
}

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

const signed = (v: number, currency: string) => (v > 0 ? '+' : v < 0 ? '−' : '') + money(Math.abs(v), currency);
const categoryName = (c: string) => F.categories[c] ?? c;

function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const start = new Date(from + 'T00:00:00Z').getTime();
  const end = new Date(to + 'T00:00:00Z').getTime();
  for (let t = start; t <= end && out.length < 1000; t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** One series' settings as stored in settings/finance/chart_config (api-domains.md §9.2). */
interface SeriesConfig {
  key: string;
  name: string;
  color: string;
  type: 'line' | 'bar';
  visible: boolean;
}

const CHART_CONFIG = 'finance/chart_config';

/** Applies the stored settings (color, kind, visibility) over the defaults. */
function configured(series: Series[], config: SeriesConfig[] | null | undefined): Series[] {
  return series.flatMap((s) => {
    const c = config?.find((x) => x.key === s.key);
    if (c ? !c.visible : s.hidden) return [];
    return [c ? { ...s, color: c.color, kind: c.type } : s];
  });
}

function SeriesSettings({ series, config, onSave }: { series: Series[]; config: SeriesConfig[]; onSave: (c: SeriesConfig[]) => void }) {
  const rows = series.map(
    (s) => config.find((c) => c.key === s.key) ?? { key: s.key, name: s.name, color: s.color, type: s.kind, visible: !s.hidden },
  );
  const set = (key: string, change: Partial<SeriesConfig>) => onSave(rows.map((r) => (r.key === key ? { ...r, ...change } : r)));
  return (
    <div className="bm-fin-series" data-testid="fin-series">
      {rows.map((r) => (
        <Fragment key={r.key}>
          <Checkbox checked={r.visible} aria-label={`${F.seriesVisible}: ${r.name}`} onChange={(e) => set(r.key, { visible: e.target.checked })} />
          <span>{r.name}</span>
          <input type="color" aria-label={`${F.seriesColor}: ${r.name}`} value={r.color} onChange={(e) => set(r.key, { color: e.target.value })} />
          <Radio.Group
            size="small"
            optionType="button"
            value={r.type}
            onChange={(e) => set(r.key, { type: e.target.value as SeriesConfig['type'] })}
            options={[
              { value: 'line', label: F.line },
              { value: 'bar', label: F.bar },
            ]}
          />
        </Fragment>
      ))}
    </div>
  );
}

function Summary({
  from,
  to,
  breakdown,
  stats,
  error,
  retry,
  projectName,
}: {
  from: string;
  to: string;
  /** The server's figures of the period per project (narrowed to the toolbar's project), undefined while loading. */
  breakdown: Breakdown | undefined;
  /** The server's figures per local day of the period (same narrowing), undefined while loading. */
  stats: Record<string, DayStats> | undefined;
  error: unknown;
  retry: () => void;
  projectName: (id: string) => string;
}) {
  const { message } = App.useApp();
  const loadConfig = useCallback(() => settingsApi.get<SeriesConfig[]>(CHART_CONFIG), []);
  const config = usePolling(loadConfig, 60_000);
  const saveConfig = (c: SeriesConfig[]) =>
    settingsApi.put<SeriesConfig[]>(CHART_CONFIG, c).then(
      () => {
        config.refresh();
        message.success(F.seriesSaved);
      },
      (e: unknown) => message.error(errorMessage(e)),
    );
  const days = useMemo(() => daysBetween(from, to), [from, to]);

  // Totals per currency, USD per day and gold farmed per project are the server's daily
  // stats (local days, the toolbar's project); the period's totals add up its days. The gold
  // sold and the sale prices per project come from the server's breakdown of the period.
  const agg = useMemo(() => {
    const perCurrency: Record<string, { income: number; expense: number }> = {};
    const farmed: Record<string, number> = {};
    const usdByDay: Record<string, { income: number; expense: number }> = {};
    for (const day of Object.values(stats ?? {})) {
      for (const [cur, m] of Object.entries(day.by_currency)) {
        if (!cur) continue;
        const t = (perCurrency[cur] ??= { income: 0, expense: 0 });
        t.income += m.total_revenue;
        t.expense += m.total_expenses;
      }
      if (day.by_currency.USD) usdByDay[day.date] = { income: day.total_revenue, expense: day.total_expenses };
      for (const [p, g] of Object.entries(day.total_farmed)) if (p) farmed[p] = (farmed[p] ?? 0) + g.gold;
    }
    return { perCurrency, farmed, usdByDay };
  }, [stats]);
  const totals = agg;
  const projectsOf = Object.entries(breakdown?.by_project ?? {}).sort(([x], [y]) => x.localeCompare(y));

  if (error && !(breakdown && stats)) {
    return <LoadError className="" title={S.ws.loadFailed} error={error} retry={retry} />;
  }

  const currencies = Object.keys(totals.perCurrency).sort((a, b) => (a === 'USD' ? -1 : b === 'USD' ? 1 : a.localeCompare(b)));
  const cards: Stat[] = currencies.flatMap((cur) => {
    const { income, expense } = totals.perCurrency[cur];
    const net = income - expense;
    return [
      { label: `${F.income} · ${cur}`, value: money(income, cur), tone: 'success', testId: `fin-income-${cur}` },
      { label: `${F.expenses} · ${cur}`, value: money(expense, cur), tone: 'danger', testId: `fin-expense-${cur}` },
      {
        label: `${F.net} · ${cur} (${net >= 0 ? F.netGain : F.netLoss})`,
        value: signed(net, cur),
        tone: net >= 0 ? 'success' : 'danger',
        testId: `fin-net-${cur}`,
      },
    ] satisfies Stat[];
  });

  // Gold Sold: the total and the mean sale price per 1000 g; with several projects, one
  // line each above the total.
  const soldRows = projectsOf.filter(([, p]) => p.gold_sold > 0);
  if (breakdown && soldRows.length) {
    const rate = (price: number | null) => (price === null ? '' : F.perThousand(price));
    cards.push({
      label: F.goldSold,
      testId: 'fin-gold-sold',
      value: (
        <>
          {soldRows.length > 1 && (
            <ul className="bm-fin-sold">
              {soldRows.map(([p, g]) => (
                <li key={p || '-'}>
                  <span>{p ? projectName(p) : F.noProject}</span>
                  <strong>{money(g.gold_sold, 'gold')}</strong>
                  <small>{rate(g.gold_price)}</small>
                </li>
              ))}
            </ul>
          )}
          <div className="bm-fin-sold-total" data-testid="fin-gold-total">
            <span>{money(breakdown.gold_sold, 'gold')}</span>
            <small className="bm-muted">
              {F.avgPrice} {rate(breakdown.gold_price)}
            </small>
          </div>
        </>
      ),
    });
  }

  const usdOf = (d: string) => agg.usdByDay[d] ?? { income: 0, expense: 0 };
  const netOf = (d: string) => usdOf(d).income - usdOf(d).expense;
  let running = 0;
  const allSeries: Series[] = [
    { key: 'income', name: F.income, color: COLORS.income, kind: 'line', values: days.map((d) => usdOf(d).income) },
    { key: 'expense', name: F.expense, color: COLORS.expense, kind: 'line', values: days.map((d) => usdOf(d).expense) },
    { key: 'profit', name: F.chartProfit, color: COLORS.profit, kind: 'line', values: days.map((d) => (running += netOf(d))) },
    { key: 'net', name: F.chartNet, color: COLORS.net, kind: 'bar', hidden: true, values: days.map(netOf) },
    // One gold price line per project on the right axis, as the reference draws TBC and Midnight apart.
    ...projectsOf
      .filter(([, t]) => t.gold_price !== null)
      .map(
        ([p, t], i): Series => ({
          key: `gold:${p || '-'}`,
          name: F.goldPriceOf(p ? projectName(p) : F.noProject),
          color: GOLD_COLORS[i % GOLD_COLORS.length],
          kind: 'line',
          right: true,
          values: days.map((d) => t.gold_price_by_day[d] ?? null),
        }),
      ),
  ];
  const stored = Array.isArray(config.data) ? config.data : [];
  const series = configured(allSeries, stored);

  return (
    <>
      {!breakdown || !stats ? (
        <Skeleton active paragraph={{ rows: 2 }} />
      ) : cards.length ? (
        <StatCards stats={cards} />
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={F.noTotals} />
      )}
      <Card
        className="bm-card bm-fin-overview"
        size="small"
        title={F.chartTitle}
        extra={
          <Popover trigger="click" placement="bottomRight" content={<SeriesSettings series={allSeries} config={stored} onSave={(c) => void saveConfig(c)} />}>
            <Button size="small" type="text" icon={<SettingOutlined />}>
              {F.seriesSettings}
            </Button>
          </Popover>
        }
      >
        {stats && Object.keys(stats).length ? (
          <DayChart
            days={days}
            series={series}
            height={400}
            format={(v) => usd.format(v).replace('.00', '')}
            formatRight={(v) => `$${v.toFixed(v < 10 ? 2 : 0)}`}
            label={F.chartTitle}
            testId="fin-chart"
          />
        ) : (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={F.noChartData} />
        )}
        <div className="bm-fin-axes bm-muted">
          <span>{F.axisAmount}</span>
          <span>{F.axisGold}</span>
        </div>
      </Card>
      {Object.keys(totals.farmed).length > 0 && (
        <Card className="bm-card" size="small" title={F.farmedTitle}>
          <ul className="bm-fin-farmed">
            {Object.entries(totals.farmed).map(([p, g]) => (
              <li key={p}>
                <span>{projectName(p)}</span>
                <strong>{money(g, 'gold')}</strong>
              </li>
            ))}
          </ul>
        </Card>
      )}
    </>
  );
}

interface OpForm {
  type: OpType;
  category: string;
  currency: string;
  amount: number;
  date: string;
  project_id?: string;
  gold_amount?: number | null;
  gold_price_at_time?: number | null;
  description?: string;
}

function OperationFields({ form, projects, editing }: { form: FormInstance<OpForm>; projects: ProjectOption[]; editing: boolean }) {
  const type = Form.useWatch('type', form);
  const category = Form.useWatch('category', form);
  const goldAmount = Form.useWatch('gold_amount', form);
  const goldPrice = Form.useWatch('gold_price_at_time', form);
  const sale = type === 'income' && category === 'sale';
  const calculated =
    sale && typeof goldAmount === 'number' && typeof goldPrice === 'number' ? Math.round(goldAmount * goldPrice * 0.1) / 100 : null;

  // A gold sale's amount is gold × price per 1000 g.
  useEffect(() => {
    if (calculated !== null) form.setFieldsValue({ amount: calculated, currency: 'USD' });
  }, [calculated, form]);

  const categories = type === 'income' ? INCOME_CATEGORIES : EXPENSE_CATEGORIES;
  return (
    <>
      <Form.Item name="type" label={F.fieldType} rules={[{ required: true }]}>
        <Radio.Group
          disabled={editing}
          optionType="button"
          options={[
            { value: 'income', label: F.income },
            { value: 'expense', label: F.expense },
          ]}
          onChange={() => form.setFieldsValue({ category: undefined })}
        />
      </Form.Item>
      <Space.Compact block>
        <Form.Item name="category" label={F.fieldCategory} rules={[{ required: true, message: F.categoryRequired }]} style={{ flex: 1 }}>
          <Select options={categories.map((c) => ({ value: c, label: categoryName(c) }))} />
        </Form.Item>
        <Form.Item name="project_id" label={F.fieldProject} style={{ flex: 1 }} rules={sale ? [{ required: true }] : []}>
          <Select allowClear options={projects} />
        </Form.Item>
      </Space.Compact>
      {sale && (
        <Space.Compact block>
          <Form.Item name="gold_amount" label={F.fieldGoldAmount} style={{ flex: 1 }}>
            <InputNumber min={0} style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item name="gold_price_at_time" label={F.fieldGoldPrice} style={{ flex: 1 }}>
            <InputNumber min={0} step={0.01} style={{ width: '100%' }} />
          </Form.Item>
        </Space.Compact>
      )}
      {calculated !== null && <div className="bm-muted bm-fin-calc">{F.calculated(money(calculated, 'USD'))}</div>}
      <Space.Compact block>
        <Form.Item
          name="amount"
          label={F.fieldAmount}
          style={{ flex: 2 }}
          rules={[
            { required: true, message: F.amountRequired },
            { type: 'number', min: 0, message: F.amountMin },
          ]}
        >
          <InputNumber step={0.01} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="currency" label={F.fieldCurrency} style={{ flex: 1 }} rules={[{ required: true }]}>
          <Select options={CURRENCIES.map((c) => ({ value: c, label: c }))} />
        </Form.Item>
      </Space.Compact>
      <Form.Item name="date" label={F.fieldDate} rules={[{ required: true, message: F.dateRequired }]}>
        <DateField time />
      </Form.Item>
      <Form.Item name="description" label={F.fieldDescription} rules={[{ max: 1000 }]}>
        <Input.TextArea rows={2} maxLength={1000} />
      </Form.Item>
    </>
  );
}

interface ProjectOption {
  value: string;
  label: string;
}

const FILTERS = ['type', 'category', 'project'] as const;

/** An operation's amount, signed and colored by its type, in its currency. */
function Amount({ op }: { op: Operation }) {
  return (
    <span className={`bm-tone-text bm-tone-${op.type === 'income' ? 'success' : 'danger'}`}>
      {signed(op.type === 'income' ? op.amount : -op.amount, op.currency)}
    </span>
  );
}

export default function FinancePage() {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'transactions' ? 'transactions' : 'summary';
  const [preset, setPreset] = useState<Preset>('d30');
  const [custom, setCustom] = useState(() => ({ from: localDay(Date.now() - 29 * DAY_MS), to: localDay(Date.now()) }));
  const { from, to } =
    preset === 'custom' ? custom : { from: localDay(Date.now() - (PRESETS[preset] - 1) * DAY_MS), to: localDay(Date.now()) };
  const [dialog, setDialog] = useState<{ editing: Operation | null } | null>(null);
  // Toolbar project: narrows the cards, charts, analysis and the table ('' = all, '-' = none).
  const [project, setProject] = useState('');

  const loadProjects = useCallback(() => projectSettingsApi.projects(), []);
  const projectsDoc = usePolling<Record<string, ProjectInfo> | null>(loadProjects, 60_000);
  const projects: ProjectOption[] = Object.entries(projectsDoc.data ?? {}).map(([id, p]) => ({ value: id, label: p.name ?? id }));
  const projectName = (id: string | null | undefined) => (id ? (projects.find((p) => p.value === id)?.label ?? id) : F.noProject);

  // "-" asks for operations without a project.
  const projectFilter = (p: string | undefined) => (p === '-' ? '' : p || undefined);
  const loadBreakdown = useCallback(() => financeApi.breakdown(from, to, projectFilter(project)), [from, to, project]);
  const periodBreakdown = usePolling<Breakdown>(loadBreakdown, STATS_POLL_MS);
  // The poll keeps its loader between ticks: a new period or project asks at once.
  const { refresh: refreshBreakdown } = periodBreakdown;
  useEffect(() => refreshBreakdown(), [loadBreakdown, refreshBreakdown]);
  const loadDays = useCallback(() => financeApi.dailyStats(from, to, projectFilter(project)), [from, to, project]);
  const periodDays = usePolling<Record<string, DayStats>>(loadDays, STATS_POLL_MS);
  const { refresh: refreshDays } = periodDays;
  useEffect(() => refreshDays(), [loadDays, refreshDays]);

  // The table follows the period and the toolbar's project too (its own project filter narrows further only when the toolbar shows all).
  const filtersOf = useCallback(
    (st: TableState) => {
      const { type, category, project: own } = st.filters;
      return {
        ...periodFilters(from, to),
        type: type || undefined,
        category: category || undefined,
        project_id: projectFilter(project || own),
      };
    },
    [from, to, project],
  );
  const load = useCallback((st: TableState) => financeApi.page({ ...st, filters: filtersOf(st) }), [filtersOf]);
  const table = useListTable<Operation>({
    load,
    rowKey: (r) => r.id,
    defaultLimit: 10,
    defaultSort: { sort: 'date', order: 'desc' },
    filterKeys: FILTERS,
    pollMs: TABLE_POLL_MS,
  });

  const { message } = App.useApp();
  const exportCsv = async () => {
    const st = table.state;
    try {
      const rows = await financeApi.all({ sort: st.sort, order: st.order, q: st.q, filters: filtersOf(st) });
      download(`finance_transactions_${localDay(Date.now())}.csv`, toCsv(rows, projectName));
      message.success(F.exported(rows.length));
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const remove = useDeleteAction<Operation>({
    remove: (op) => financeApi.remove(op.id),
    recreate: (op) => financeApi.create(op),
    confirm: (op) => ({ title: F.deleteConfirm, content: `${formatDateTime(op.date)} · ${categoryName(op.category)} · ${money(op.amount, op.currency)}` }),
    label: (op) => `${F.what} ${money(op.amount, op.currency)}`,
    onChange: table.refresh,
  });

  const columns: ColumnsType<Operation> = [
    { key: 'date', title: F.colDate, dataIndex: 'date', sorter: true, width: 140, render: (v: number) => formatDateTime(v) },
    {
      key: 'type',
      title: F.colType,
      dataIndex: 'type',
      sorter: true,
      render: (v: OpType) => <Tag color={v === 'income' ? 'green' : 'red'}>{v === 'income' ? F.income : F.expense}</Tag>,
    },
    { key: 'category', title: F.colCategory, dataIndex: 'category', sorter: true, render: categoryName },
    { key: 'project_id', title: F.colProject, dataIndex: 'project_id', sorter: true, render: projectName },
    { key: 'description', title: F.colDescription, dataIndex: 'description', ellipsis: true },
    // Gold and USD never share a column: a gold-currency operation's amount is gold, a sale's
    // gold amount is the gold it sold for its USD amount.
    {
      key: 'gold_amount',
      title: F.colGold,
      dataIndex: 'gold_amount',
      sorter: true,
      align: 'right',
      render: (v: number | null | undefined, r) =>
        r.currency === 'gold' ? <Amount op={r} /> : typeof v === 'number' ? money(v, 'gold') : '',
    },
    {
      key: 'amount',
      title: F.colAmountUsd,
      dataIndex: 'amount',
      sorter: true,
      align: 'right',
      render: (_: number, r) => (r.currency === 'gold' ? '' : <Amount op={r} />),
    },
    {
      key: 'actions',
      title: '',
      width: 72,
      render: (_, r) => (
        <span className="bm-row-actions">
          <IconAction title={S.crud.edit} icon={<EditOutlined />} onClick={() => setDialog({ editing: r })} />
          <IconAction title={S.crud.delete} icon={<DeleteOutlined />} danger onClick={() => remove(r)} />
        </span>
      ),
    },
  ];

  const transactions = (
    <Card
      className="bm-card"
      size="small"
      title={F.operations}
      extra={
        <Button size="small" icon={<DownloadOutlined />} onClick={() => void exportCsv()} data-testid="fin-export">
          {F.export}
        </Button>
      }
    >
      <FilterBar
        table={table}
        placeholder={F.search}
        selects={[
          {
            key: 'type',
            label: F.colType,
            options: [
              { value: '', label: `${F.colType}: ${S.crud.all}` },
              { value: 'income', label: F.income },
              { value: 'expense', label: F.expense },
            ],
          },
          {
            key: 'category',
            label: F.colCategory,
            options: [
              { value: '', label: `${F.colCategory}: ${S.crud.all}` },
              ...[...new Set([...INCOME_CATEGORIES, ...EXPENSE_CATEGORIES])].map((c) => ({ value: c, label: categoryName(c) })),
            ],
          },
          {
            key: 'project',
            label: F.colProject,
            options: [
              { value: '', label: `${F.colProject}: ${S.crud.all}` },
              ...projects,
              { value: '-', label: S.crud.none },
            ],
          },
        ]}
      />
      <ListTable table={table} columns={columns} noun={F.operationNoun} emptyText={F.empty} emptyAction={<Button icon={<PlusOutlined />} onClick={() => setDialog({ editing: null })}>{S.crud.addFirst(F.operationNoun[0])}</Button>} testId="fin-table" />
    </Card>
  );

  const editing = dialog?.editing ?? null;
  return (
    <div className="bm-ws-page">
      <PageHeader
        id="finance"
        icon={<DollarOutlined />}
        title={F.title}
        subtitle={F.subtitle}
        actions={
          <div className="bm-fin-range" role="group" aria-label={F.range}>
            <Select
              aria-label={F.projectFilter}
              data-testid="fin-project"
              value={project}
              style={{ width: 170 }}
              onChange={setProject}
              options={[{ value: '', label: F.allProjects }, ...projects, { value: '-', label: F.noProject }]}
            />
            <Select<Preset>
              aria-label={F.range}
              value={preset}
              style={{ width: 140 }}
              onChange={(p) => {
                if (p === 'custom') setCustom({ from, to });
                setPreset(p);
              }}
              options={(Object.keys(F.ranges) as Preset[]).map((k) => ({ value: k, label: F.ranges[k] }))}
            />
            <DateField
              aria-label={F.from}
              value={from}
              max={to}
              allowClear={false}
              style={{ width: 140 }}
              onChange={(v) => {
                setCustom({ from: v, to });
                setPreset('custom');
              }}
            />
            <DateField
              aria-label={F.to}
              value={to}
              min={from}
              allowClear={false}
              style={{ width: 140 }}
              onChange={(v) => {
                setCustom({ from, to: v });
                setPreset('custom');
              }}
            />
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setDialog({ editing: null })}>
              {F.add}
            </Button>
          </div>
        }
      />
      <Tabs
        className="bm-fin-tabs"
        activeKey={tab}
        onChange={(t) => setParams((p) => ({ ...Object.fromEntries(p), tab: t }), { replace: true })}
        items={[
          {
            key: 'summary',
            label: F.tabSummary,
            children: (
              <>
                <Summary
                  from={from}
                  to={to}
                  breakdown={periodBreakdown.data}
                  stats={periodDays.data}
                  error={periodBreakdown.error ?? periodDays.error}
                  retry={() => {
                    refreshBreakdown();
                    refreshDays();
                  }}
                  projectName={projectName}
                />
                <Analysis breakdown={periodBreakdown.data} projectName={projectName} money={money} />
              </>
            ),
          },
          { key: 'transactions', label: F.tabTransactions, children: transactions },
        ]}
      />
      {dialog && (
        <EntityDialog<OpForm>
          open
          title={editing ? F.editTitle : F.createTitle}
          testId="operation-dialog"
          width={600}
          initialValues={
            editing
              ? {
                  type: editing.type,
                  category: editing.category,
                  currency: editing.currency,
                  amount: editing.amount,
                  date: localInput(editing.date),
                  project_id: editing.project_id ?? undefined,
                  gold_amount: editing.gold_amount ?? null,
                  gold_price_at_time: editing.gold_price_at_time ?? null,
                  description: editing.description ?? '',
                }
              : { type: 'expense', currency: 'USD', date: localInput(Date.now()) }
          }
          successMessage={editing ? F.updated : F.created}
          onClose={() => setDialog(null)}
          onSubmit={async (v) => {
            const body: Partial<Operation> = {
              category: v.category,
              currency: v.currency,
              amount: v.amount,
              date: new Date(v.date).getTime(),
              project_id: v.project_id || null,
              description: v.description ?? '',
            };
            if (v.type === 'income' && v.category === 'sale') {
              body.gold_amount = v.gold_amount ?? null;
              body.gold_price_at_time = v.gold_price_at_time ?? null;
            }
            if (editing) await financeApi.patch(editing.id, body);
            else await financeApi.create({ ...body, type: v.type });
            table.refresh();
          }}
        >
          {(form) => <OperationFields form={form} projects={projects} editing={editing !== null} />}
        </EntityDialog>
      )}
    </div>
  );
}
