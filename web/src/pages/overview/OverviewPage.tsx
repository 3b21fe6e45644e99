// Overview (`/`), the "Content Map" of web-ui.md §2.1: the first-run steps while they are
// not done, projects with bot counts by lifecycle status and by presence, resources (active / expiring / expired / unassigned),
// finance of the last 30 days, notes, the items expiring soon, and the
// server section.

import { useCallback, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { Alert, Button, Skeleton, Tag } from 'antd';
import { InfoCircleOutlined, RightOutlined } from '@ant-design/icons';
import type { Bot } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { fetchAll } from '../../api/lists';
import { projectSettingsApi } from '../../api/projects';
import { licensesApi, proxiesApi, subscriptionsApi, type License, type Proxy, type Subscription } from '../../api/resources';
import { daysLeft, formatDate } from '../../components/crud/cells';
import Section from '../../components/Section';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { ACTIVE_STATUSES, botLabel, presenceOf, projectList, storedStatus, useBotIndex, useProjectSettings } from '../bots/botModel';
import { usePolicy } from '../../policy';
import GettingStarted from './GettingStarted';
import type { Operation } from '../finance/api';
import { notesApi } from '../workspace/api';
import { proxyAddress } from '../resources/expiry';
import ServerSection from './ServerSection';
import './overview.css';

const C = S.contentMap;
const POLL_MS = 15_000;
const DAY_MS = 86_400_000;
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

interface Counts {
  total: number;
  active: number;
  expiring: number;
  expired: number;
  unassigned: number;
}

/** Expiring = 0 < days ≤ warning_days; banned proxies never expire-warn. */
function countOf<T extends { expires_at?: number; status?: string }>(
  items: T[],
  warnDays: number,
  now: number,
  assigned: (t: T) => boolean,
  expiredStatus = 'expired',
): Counts {
  const c: Counts = { total: items.length, active: 0, expiring: 0, expired: 0, unassigned: 0 };
  for (const t of items) {
    if (!assigned(t)) c.unassigned++;
    const exp = t.expires_at;
    if (t.status === expiredStatus || (typeof exp === 'number' && exp <= now)) c.expired++;
    else if (t.status === 'banned' || t.status === 'revoked' || t.status === 'cancelled') continue;
    else if (typeof exp === 'number' && (daysLeft(exp, now) ?? 0) <= warnDays) c.expiring++;
    else c.active++;
  }
  return c;
}

function resourceChips(c: Counts, withUnassigned: boolean): Chip[] {
  const chips: Chip[] = [
    { label: S.resourceState.active, value: c.active, tone: 'success' },
    { label: S.resourceState.expiringSoon, value: c.expiring, tone: 'warning' },
    { label: S.resourceState.expired, value: c.expired, tone: 'danger' },
  ];
  if (withUnassigned) chips.push({ label: S.resourceState.unassigned, value: c.unassigned, tone: 'muted' });
  return chips;
}

interface Resources {
  licenses: License[];
  proxies: Proxy[];
  subscriptions: Subscription[];
  warnDays: number;
}

interface Finance {
  income: number;
  expenses: number;
  gold: { project: string; grams: number; perK: number }[];
}

const money = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const goldText = (n: number) => `${Math.round(n).toLocaleString('fr-FR')} g`;

async function loadFinance(): Promise<Finance> {
  // The last 30 days with today, from midnight: the Finance page's default period.
  const cutoff = new Date().setHours(0, 0, 0, 0) - 29 * DAY_MS;
  const ops = (
    await fetchAll<Operation>('/finance/operations', { sort: 'date', order: 'desc' }, (last) => last.date < cutoff)
  ).filter((o) => o.date >= cutoff);
  const usd = ops.filter((o) => o.currency === 'USD');
  const sum = (list: Operation[]) => list.reduce((s, o) => s + (Number(o.amount) || 0), 0);
  const sales = new Map<string, { grams: number; prices: number[] }>();
  for (const o of ops) {
    if (o.type !== 'income' || o.category !== 'sale' || !o.gold_amount) continue;
    const key = o.project_id ?? '';
    const entry = sales.get(key) ?? { grams: 0, prices: [] };
    entry.grams += o.gold_amount;
    if (typeof o.gold_price_at_time === 'number') entry.prices.push(o.gold_price_at_time);
    sales.set(key, entry);
  }
  return {
    income: sum(usd.filter((o) => o.type === 'income')),
    expenses: sum(usd.filter((o) => o.type === 'expense')),
    gold: [...sales.entries()].map(([project, e]) => ({
      project,
      grams: e.grams,
      perK: e.prices.length ? e.prices.reduce((a, b) => a + b, 0) / e.prices.length : 0,
    })),
  };
}

export default function OverviewPage() {
  const [allAlerts, setAllAlerts] = useState(false);
  const bots = useBotIndex(POLL_MS);
  const settings = useProjectSettings();
  const loadResources = useCallback(async (): Promise<Resources> => {
    const [licenses, proxies, subscriptions, warnDays] = await Promise.all([
      licensesApi.all(),
      proxiesApi.all(),
      subscriptionsApi.all(),
      projectSettingsApi.warningDays(),
    ]);
    return { licenses, proxies, subscriptions, warnDays };
  }, []);
  const res = usePolling(loadResources, POLL_MS);
  const finance = usePolling(loadFinance, 60_000);
  const loadNotes = useCallback(() => notesApi.all({ sort: 'updated_at', order: 'desc' }), []);
  const notes = usePolling(loadNotes, 30_000);

  const now = Date.now();
  const policy = usePolicy();
  const botList: Bot[] = [...(bots.data?.values() ?? [])];
  const projects = projectList(settings.data, botList);
  const r = res.data;
  const warnDays = r?.warnDays ?? 7;
  const projectName = (id: string) => projects.find((p) => p.id === id)?.name ?? id;

  const alerts = r
    ? [
        ...r.licenses.map((l) => ({ kind: S.bot.license, name: C.license(l.type ?? ''), bot: l.bot_ids?.[0], exp: l.expires_at, id: l.id })),
        ...r.proxies
          .filter((p) => p.status !== 'banned')
          .map((p) => ({ kind: S.bot.proxy, name: C.proxy(proxyAddress(p)), bot: p.bot_id ?? undefined, exp: p.expires_at, id: p.id })),
        ...r.subscriptions.map((s) => ({ kind: S.subscriptions.type, name: C.subscription((s.type ?? 'wow').toUpperCase()), bot: s.bot_id, exp: s.expires_at, id: s.id })),
      ]
        .filter((a) => typeof a.exp === 'number' && a.exp > now && (daysLeft(a.exp, now) ?? 0) <= warnDays)
        .sort((a, b) => a.exp! - b.exp!)
    : [];

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
          <GettingStarted projects={projects} botCount={botList.length} onChanged={settings.refresh} />
        ) : null}

        <Section id="projects" title={C.projects}>
          {failed(!bots.data && bots.error)}
          <div className="bm-map-grid">
            {projects.length === 0 && bots.data ? <div className="bm-muted">{C.noProjects}</div> : null}
            {(projects.length ? projects : bots.data ? [] : [{ id: '', name: '' }]).map((p) => {
              const mine = botList.filter((b) => b.project_id === p.id);
              const n = (pred: (s: string) => boolean) => mine.filter((b) => pred(storedStatus(b))).length;
              const seen = (presence: string) =>
                policy ? mine.filter((b) => presenceOf(b, policy.offlineAfterMs, now) === presence).length : '…';
              return (
                <MapCard
                  key={p.id || 'loading'}
                  title={p.name}
                  to={p.id ? `/project/${encodeURIComponent(p.id)}` : undefined}
                  loading={!bots.data}
                  testId={`map-project-${p.id}`}
                  tag={bots.data ? <Tag color="blue">{C.nBots(mine.length)}</Tag> : null}
                >
                  <Chips
                    chips={[
                      { label: S.project.active, value: n((s) => (ACTIVE_STATUSES as readonly string[]).includes(s)), tone: 'success' },
                      { label: S.botStatus.prepare, value: n((s) => s === 'prepare'), tone: 'info' },
                      { label: S.botStatus.offline, value: n((s) => s === 'offline'), tone: 'muted' },
                      { label: S.botStatus.banned, value: n((s) => s === 'banned'), tone: 'danger' },
                    ]}
                  />
                  <Chips
                    small
                    chips={[
                      { label: S.presence.online, value: seen('online'), tone: 'success' },
                      { label: S.presence.offline, value: seen('offline'), tone: 'muted' },
                      { label: S.presence.never_seen, value: seen('never_seen'), tone: 'muted' },
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
              tag={r ? <Tag>{C.nTotal(r.licenses.length)}</Tag> : null}
            >
              {r ? <Chips chips={resourceChips(countOf(r.licenses, warnDays, now, (l) => !!l.bot_ids?.length), true)} /> : null}
            </MapCard>
            <MapCard
              title={S.tree.proxies}
              to="/proxies"
              loading={!r}
              testId="map-proxies"
              tag={r ? <Tag>{C.nTotal(r.proxies.length)}</Tag> : null}
            >
              {r ? <Chips chips={resourceChips(countOf(r.proxies, warnDays, now, (p) => !!p.bot_id), true)} /> : null}
            </MapCard>
            <MapCard
              title={S.tree.subscriptions}
              to="/subscriptions"
              loading={!r}
              testId="map-subscriptions"
              tag={r ? <Tag>{C.nTotal(r.subscriptions.length)}</Tag> : null}
            >
              {r ? <Chips chips={resourceChips(countOf(r.subscriptions, warnDays, now, (s) => !!s.bot_id), false)} /> : null}
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
            <MapCard title={C.alerts} loading={!r} testId="map-alerts" tag={r ? <Tag color={alerts.length ? 'orange' : 'green'}>{C.nItems(alerts.length)}</Tag> : null}>
              {alerts.length === 0 ? (
                <div className="bm-muted">{C.noAlerts}</div>
              ) : (
                <table className="bm-map-table">
                  <tbody>
                    {(allAlerts ? alerts : alerts.slice(0, ALERT_ROWS)).map((a) => {
                      const d = daysLeft(a.exp, now) ?? 0;
                      return (
                        <tr key={a.id}>
                          <td>
                            <Tag>{a.kind}</Tag>
                          </td>
                          <td>{a.name}</td>
                          <td className="bm-muted">{a.bot ? botLabel(bots.data?.get(a.bot), a.bot) : '—'}</td>
                          <td className={`bm-tone-text bm-tone-${d <= 3 ? 'danger' : 'warning'}`}>{C.daysShort(d)}</td>
                          <td className="bm-muted">{formatDate(a.exp)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              )}
              {alerts.length > ALERT_ROWS ? (
                <Button type="link" size="small" className="bm-map-more" data-testid="alerts-all" onClick={() => setAllAlerts((v) => !v)}>
                  {allAlerts ? C.fewerAlerts : C.allAlerts(alerts.length)}
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
