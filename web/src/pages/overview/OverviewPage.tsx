// Overview (`/`), the "Content Map" of web-ui.md §2.1: the first-run steps while they are
// not done, projects with bot counts by lifecycle status and by presence, resources (active / expiring / expired / unassigned),
// finance of the last 30 days, notes, the items expiring soon, and the
// server section.

import { useCallback, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { Alert, Button, Skeleton, Tag } from 'antd';
import { InfoCircleOutlined, RightOutlined } from '@ant-design/icons';
import { botsApi, type Bot } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { licensesApi, proxiesApi, resourcesApi, subscriptionsApi, type KindSummary } from '../../api/resources';
import { daysLeft, formatDate } from '../../components/crud/cells';
import Section from '../../components/Section';
import { useLive } from '../../hooks';
import { DAY_MS } from '../../format';
import { S } from '../../strings';
import { activeCount, botLabel, fleetCounts, projectList, useProjectSettings } from '../../models/bots';
import GettingStarted from './GettingStarted';
import { financeApi, localDay } from '../../api/finance';
import { MAX_LIMIT } from '../../api/lists';
import { notesApi } from '../../api/workspace';
import { proxyAddress } from '../../models/expiry';
import ServerSection from './ServerSection';
import './overview.css';

const C = S.contentMap;
const ALERT_ROWS = 4;

type Chip = { label: string; value: number | string; tone: 'success' | 'warning' | 'danger' | 'info' | 'muted' };

function Chips({ chips, small }: { chips: Chip[]; small?: boolean }) {
  return (
    <div className={'bm-map-chips' + (small ? ' is-small' : '')}>
      {chips.map((c) => (
        <div key={c.label} className={`bm-map-chip bm-tone-${c.tone}`}>
          <div className="bm-map-chip-value bm-tone-text">{c.value}</div>
          <div className="bm-map-chip-label">{c.label}</div>
        </div>
      ))}
    </div>
  );
}

/** A card that opens its page on click, Enter or Space. */
function MapCard({
  title,
  tag,
  to,
  openLabel,
  loading,
  testId,
  children,
}: {
  title: string;
  tag?: ReactNode;
  to?: string;
  openLabel?: string;
  loading?: boolean;
  testId?: string;
  children: ReactNode;
}) {
  const navigate = useNavigate();
  const open = to ? () => navigate(to) : undefined;
  const onKey = (e: KeyboardEvent) => {
    if (open && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      open();
    }
  };
  return (
    <div
      className={'bm-map-card' + (open ? ' is-link' : '')}
      role={open ? 'link' : undefined}
      tabIndex={open ? 0 : undefined}
      onClick={open}
      onKeyDown={onKey}
      data-testid={testId}
    >
      <div className="bm-map-card-head">
        <span className="bm-map-card-title">{title}</span>
        {tag}
      </div>
      {loading ? <Skeleton active paragraph={{ rows: 1 }} title={false} /> : children}
      {open ? (
        <div className="bm-map-open">
          {openLabel ?? C.open(title)} <RightOutlined />
        </div>
      ) : null}
    </div>
  );
}

function resourceChips(c: KindSummary, withUnassigned: boolean): Chip[] {
  const chips: Chip[] = [
    { label: S.resourceState.active, value: c.states.active ?? 0, tone: 'success' },
    { label: S.resourceState.expiringSoon, value: c.states.expiring ?? 0, tone: 'warning' },
    { label: S.resourceState.expired, value: c.states.expired ?? 0, tone: 'danger' },
  ];
  if (withUnassigned) chips.push({ label: S.resourceState.unassigned, value: c.unassigned, tone: 'muted' });
  return chips;
}

interface Alert {
  id: string;
  kind: string;
  name: string;
  bot?: string;
  exp: number;
}

/**
 * The items expiring soonest (each kind's own window, as its list's "expiring" filter),
 * one short page per kind, and the bots they belong to.
 */
async function loadAlerts(rows: number): Promise<{ alerts: Alert[]; bots: Map<string, Bot> }> {
  const q = { page: 1, limit: rows, sort: 'expires_at', order: 'asc' as const, filters: { state: 'expiring' } };
  const [licenses, proxies, subscriptions] = await Promise.all([licensesApi.page(q), proxiesApi.page(q), subscriptionsApi.page(q)]);
  const alerts: Alert[] = [
    ...licenses.items.map((l) => ({ kind: S.bot.license, name: C.license(l.type ?? ''), bot: l.bot_ids?.[0], exp: l.expires_at!, id: l.id })),
    ...proxies.items.map((p) => ({ kind: S.bot.proxy, name: C.proxy(proxyAddress(p)), bot: p.bot_id ?? undefined, exp: p.expires_at!, id: p.id })),
    ...subscriptions.items.map((s) => ({
      kind: S.subscriptions.type,
      name: C.subscription((s.type ?? 'wow').toUpperCase()),
      bot: s.bot_id,
      exp: s.expires_at!,
      id: s.id,
    })),
  ]
    .sort((a, b) => a.exp - b.exp)
    .slice(0, rows);
  const ids = [...new Set(alerts.flatMap((a) => (a.bot ? [a.bot] : [])))];
  const found = await Promise.all(ids.map((id) => botsApi.get(id).catch(() => undefined)));
  return { alerts, bots: new Map(found.flatMap((b) => (b ? [[b.id, b] as const] : []))) };
}

interface Finance {
  income: number;
  expenses: number;
  gold: { project: string; grams: number; perK: number }[];
}

const money = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const goldText = (n: number) => `${Math.round(n).toLocaleString('fr-FR')} g`;

async function loadFinance(): Promise<Finance> {
  // The last 30 days with today: the Finance page's default period. USD income and expenses
  // are the server's daily stats over the same local days as that page, and the gold sold per
  // project its breakdown of them, as that page's gold-sold card shows.
  const now = Date.now();
  const cutoff = new Date(now).setHours(0, 0, 0, 0) - 29 * DAY_MS;
  const [days, breakdown] = await Promise.all([
    financeApi.dailyStats(localDay(cutoff), localDay(now)),
    financeApi.breakdown(localDay(cutoff), localDay(now)),
  ]);
  const usd = Object.values(days);
  return {
    income: usd.reduce((s, d) => s + d.total_revenue, 0),
    expenses: usd.reduce((s, d) => s + d.total_expenses, 0),
    gold: Object.entries(breakdown.by_project)
      .filter(([, p]) => p.gold_sold > 0)
      .map(([project, p]) => ({ project, grams: p.gold_sold, perK: p.gold_price ?? 0 })),
  };
}

const RESOURCE_TOPICS = ['licenses', 'proxies', 'subscriptions', 'settings/alerts'];

export default function OverviewPage() {
  // Counts come from the server's summaries; each part reloads when the change feed reports
  // a write to what it shows (docs/api.md), never by re-reading the fleet on a timer.
  const bots = useLive(botsApi.summary, ['bots']);
  const [allAlerts, setAllAlerts] = useState(false);
  // "Show all": the first page of each kind at the server's largest page size.
  const loadShownAlerts = useCallback(() => loadAlerts(allAlerts ? MAX_LIMIT : ALERT_ROWS), [allAlerts]);
  const settings = useProjectSettings();
  const res = useLive(resourcesApi.summary, RESOURCE_TOPICS);
  const expiring = useLive(loadShownAlerts, [...RESOURCE_TOPICS, 'bots']);
  const finance = useLive(loadFinance, ['finance_operations']);
  const loadNotes = useCallback(() => notesApi.all({ sort: 'updated_at', order: 'desc' }), []);
  const notes = useLive(loadNotes, ['notes']);

  const now = Date.now();
  const projects = projectList(settings.data, bots.data?.groups);
  const r = res.data;
  const projectName = (id: string) => projects.find((p) => p.id === id)?.name ?? id;
  const alerts = expiring.data?.alerts ?? [];
  const alertTotal = r ? (['licenses', 'proxies', 'subscriptions'] as const).reduce((n, k) => n + (r[k].states.expiring ?? 0), 0) : 0;

  const fin = finance.data;
  const noteList = notes.data ?? [];
  const pinned = noteList.filter((n) => n.is_pinned).length;
  const failed = (e: unknown) => (e ? <Alert type="error" showIcon message={`${C.loadFailed}: ${errorMessage(e)}`} /> : null);

  return (
    <div className="bm-page">
      <div className="bm-tabbar" role="tablist">
        <span className="bm-tab is-active" role="tab" aria-selected="true">
          <InfoCircleOutlined /> {S.overview.tab}
        </span>
      </div>
      <div className="bm-page-inner">
        <header className="bm-page-head">
          <h1 className="bm-page-title">{C.title}</h1>
          <div className="bm-page-subtitle">{C.subtitle}</div>
        </header>

        {bots.data && settings.data !== undefined ? (
          <GettingStarted projects={projects} botCount={bots.data.total} onChanged={settings.refresh} />
        ) : null}

        <Section id="projects" title={C.projects}>
          {failed(!bots.data && bots.error)}
          <div className="bm-map-grid">
            {projects.length === 0 && bots.data ? <div className="bm-muted">{C.noProjects}</div> : null}
            {(projects.length ? projects : bots.data ? [] : [{ id: '', name: '' }]).map((p) => {
              const c = fleetCounts(bots.data, p.id);
              return (
                <MapCard
                  key={p.id || 'loading'}
                  title={p.name}
                  to={p.id ? `/project/${encodeURIComponent(p.id)}` : undefined}
                  loading={!bots.data}
                  testId={`map-project-${p.id}`}
                  tag={bots.data ? <Tag color="blue">{C.nBots(c.total)}</Tag> : null}
                >
                  <Chips
                    chips={[
                      { label: S.project.active, value: activeCount(c), tone: 'success' },
                      { label: S.botStatus.prepare, value: c.byStatus.prepare, tone: 'info' },
                      { label: S.botStatus.offline, value: c.byStatus.offline, tone: 'muted' },
                      { label: S.botStatus.banned, value: c.byStatus.banned, tone: 'danger' },
                    ]}
                  />
                  <Chips
                    small
                    chips={[
                      { label: S.presence.online, value: c.byPresence.online, tone: 'success' },
                      { label: S.presence.offline, value: c.byPresence.offline, tone: 'muted' },
                      { label: S.presence.never_seen, value: c.byPresence.never_seen, tone: 'muted' },
                    ]}
                  />
                </MapCard>
              );
            })}
          </div>
        </Section>

        <Section id="resources" title={C.resources}>
          {failed(!r && res.error)}
          <div className="bm-map-grid">
            <MapCard
              title={S.tree.licenses}
              to="/licenses"
              loading={!r}
              testId="map-licenses"
              tag={r ? <Tag>{C.nTotal(r.licenses.total)}</Tag> : null}
            >
              {r ? <Chips chips={resourceChips(r.licenses, true)} /> : null}
            </MapCard>
            <MapCard
              title={S.tree.proxies}
              to="/proxies"
              loading={!r}
              testId="map-proxies"
              tag={r ? <Tag>{C.nTotal(r.proxies.total)}</Tag> : null}
            >
              {r ? <Chips chips={resourceChips(r.proxies, true)} /> : null}
            </MapCard>
            <MapCard
              title={S.tree.subscriptions}
              to="/subscriptions"
              loading={!r}
              testId="map-subscriptions"
              tag={r ? <Tag>{C.nTotal(r.subscriptions.total)}</Tag> : null}
            >
              {r ? <Chips chips={resourceChips(r.subscriptions, false)} /> : null}
            </MapCard>
          </div>
        </Section>

        <Section id="finance-notes" title={C.financeNotes}>
          <div className="bm-map-grid">
            <MapCard title={C.finance} to="/finance" loading={!fin && !finance.error} testId="map-finance" tag={<Tag color="purple">{C.days30}</Tag>}>
              {failed(!fin && finance.error)}
              {fin ? (
                <>
                  <Chips
                    chips={[
                      { label: C.income, value: money(fin.income), tone: 'success' },
                      { label: C.expenses, value: money(fin.expenses), tone: 'danger' },
                      {
                        label: C.net,
                        value: `${fin.income - fin.expenses >= 0 ? '+' : '-'}${money(Math.abs(fin.income - fin.expenses))}`,
                        tone: fin.income >= fin.expenses ? 'success' : 'danger',
                      },
                    ]}
                  />
                  <div className="bm-map-gold">
                    <span className="bm-muted">{C.goldSold}: </span>
                    {fin.gold.length === 0
                      ? C.noSales
                      : fin.gold.map((g) => (
                          <span key={g.project} className="bm-map-gold-item">
                            {projectName(g.project)} <b>{goldText(g.grams)}</b> <span className="bm-muted">{C.perK(g.perK.toFixed(4))}</span>
                          </span>
                        ))}
                  </div>
                </>
              ) : null}
            </MapCard>
            <MapCard
              title={C.notes}
              to="/notes"
              loading={!notes.data && !notes.error}
              testId="map-notes"
              tag={notes.data ? <Tag>{C.nTotal(noteList.length)}</Tag> : null}
            >
              {failed(!notes.data && notes.error)}
              <Chips
                chips={[
                  { label: C.pinned, value: pinned, tone: 'warning' },
                  { label: C.regular, value: noteList.length - pinned, tone: 'info' },
                ]}
              />
              {noteList.length ? (
                <ul className="bm-map-list">
                  {noteList.slice(0, 5).map((n) => (
                    <li key={n.id}>{n.title?.trim() || C.untitled}</li>
                  ))}
                </ul>
              ) : (
                <div className="bm-muted">{C.noNotes}</div>
              )}
            </MapCard>
          </div>
        </Section>

        <Section id="expiring" title={C.expiringSoon}>
          <div className="bm-map-grid">
            <MapCard
              title={C.alerts}
              loading={!r || !expiring.data}
              testId="map-alerts"
              tag={r ? <Tag color={alertTotal ? 'orange' : 'green'}>{C.nItems(alertTotal)}</Tag> : null}
            >
              {alerts.length === 0 ? (
                <div className="bm-muted">{C.noAlerts}</div>
              ) : (
                <table className="bm-map-table">
                  <tbody>
                    {alerts.map((a) => {
                      const d = daysLeft(a.exp, now) ?? 0;
                      return (
                        <tr key={a.id}>
                          <td>
                            <Tag>{a.kind}</Tag>
                          </td>
                          <td>{a.name}</td>
                          <td className="bm-muted">{a.bot ? botLabel(expiring.data?.bots.get(a.bot), a.bot) : '—'}</td>
                          <td className={`bm-tone-text bm-tone-${d <= 3 ? 'danger' : 'warning'}`}>{C.daysShort(d)}</td>
                          <td className="bm-muted">{formatDate(a.exp)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              )}
              {alertTotal > ALERT_ROWS ? (
                <Button type="link" size="small" className="bm-map-more" data-testid="alerts-all" onClick={() => setAllAlerts((v) => !v)}>
                  {allAlerts ? C.fewerAlerts : C.allAlerts(alertTotal)}
                </Button>
              ) : null}
            </MapCard>
          </div>
        </Section>

        <ServerSection />
      </div>
    </div>
  );
}
