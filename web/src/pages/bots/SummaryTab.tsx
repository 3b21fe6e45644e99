// Summary of a bot (web-ui.md §2.3): health, character, bot info,
// configuration state and the status of its resources, with a vertical
// sub-nav on the left that scrolls to each part.

import type { KeyboardEvent, ReactNode } from 'react';
import { Alert, Descriptions, Skeleton, Space, Tag, Tooltip } from 'antd';
import type { Bot } from '../../api/bots';
import { CopyButton, daysLeft, formatDate } from '../../components/crud';
import { formatDateTime } from '../../format';
import { S } from '../../strings';
import { licenseState, proxyAddress, proxyState, subscriptionState, worst, type ResourceState } from '../../models/expiry';
import type { BotTab } from './BotPage';
import { PresenceBadge, StatusBadge, presenceOf, storedStatus, useProjectName, type Presence } from '../../models/bots';
import { usePolicy } from '../../policy';
import { useExpiryWindows } from '../../models/resourceStats';
import { accountComplete, personComplete, scheduleSummary } from './ConfigureTab';
import type { BotResources } from './useBotResources';

const B = S.bot;
/** The summary warns a week ahead for every resource. */
const WARN_DAYS = 7;

interface Issue {
  level: 'error' | 'warning';
  text: string;
}

/** What is wrong with a bot, worst first: a ban, then its resources, account and presence. */
function issuesOf(bot: Bot, r: BotResources | undefined, presence: Presence | undefined, now: number): Issue[] {
  const out: Issue[] = [];
  const banned = storedStatus(bot) === 'banned';
  if (banned) out.push({ level: 'error', text: B.botBanned });
  const status = (exp?: number) => {
    if (typeof exp !== 'number') return 'active';
    if (exp <= now) return 'expired';
    return (daysLeft(exp, now) ?? 0) <= WARN_DAYS ? 'expiring' : 'active';
  };
  for (const l of r?.licenses ?? []) {
    const s = l.status === 'expired' || l.status === 'revoked' ? 'expired' : status(l.expires_at);
    if (s === 'expired') out.push({ level: 'error', text: B.licenseExpired });
    else if (s === 'expiring') out.push({ level: 'warning', text: B.licenseExpiring });
  }
  for (const p of r?.proxies ?? []) {
    if (p.status === 'banned') out.push({ level: 'error', text: B.proxyBanned });
    else if (p.status === 'expired' || status(p.expires_at) === 'expired') out.push({ level: 'error', text: B.proxyExpired });
    else if (status(p.expires_at) === 'expiring') out.push({ level: 'warning', text: B.proxyExpiring });
  }
  const subs = (r?.subscriptions ?? []).map((s) => status(s.expires_at));
  const expired = subs.filter((s) => s === 'expired').length;
  const expiring = subs.filter((s) => s === 'expiring').length;
  if (expired) out.push({ level: 'error', text: B.subsExpired(expired) });
  if (expiring) out.push({ level: 'warning', text: B.subsExpiring(expiring) });
  // Missing pieces only once the resources are known, so a loading page does not flash them.
  if (r && !r.licenses.length) out.push({ level: 'warning', text: B.noLicenseIssue });
  if (r && !r.proxies.length) out.push({ level: 'warning', text: B.noProxyIssue });
  if (!accountComplete(bot)) out.push({ level: 'warning', text: B.noAccountIssue });
  // A banned bot is not expected to report.
  if (!banned && presence === 'offline' && typeof bot.last_seen === 'number') {
    out.push({ level: 'warning', text: B.botOffline(Math.floor((now - bot.last_seen) / 60_000)) });
  }
  if (!banned && presence === 'never_seen') out.push({ level: 'warning', text: B.botNeverSeen });
  return out;
}

/** The sub-nav's entries and the ids of the parts they scroll to. */
const PARTS = [
  ['overview', () => B.navOverview],
  ['character', () => B.character],
  ['botinfo', () => B.botInfo],
  ['configure', () => B.configure],
  ['resources', () => B.statusSummary],
] as const;
const partId = (key: string) => `bot-summary-${key}`;

function SubNav() {
  return (
    <nav className="bm-sum-nav" aria-label={B.summaryNav}>
      {PARTS.map(([key, label]) => (
        <button key={key} type="button" onClick={() => document.getElementById(partId(key))?.scrollIntoView({ block: 'start', behavior: 'smooth' })}>
          {label()}
        </button>
      ))}
    </nav>
  );
}

function Card({ id, title, extra, children, onOpen }: { id?: string; title: ReactNode; extra?: ReactNode; children: ReactNode; onOpen?: () => void }) {
  const key = (e: KeyboardEvent) => {
    if (onOpen && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      onOpen();
    }
  };
  return (
    <section
      id={id && partId(id)}
      className={'bm-bot-card' + (onOpen ? ' bm-tile' : '')}
      tabIndex={onOpen ? 0 : undefined}
      role={onOpen ? 'button' : undefined}
      onClick={onOpen}
      onKeyDown={key}
    >
      <h3 className="bm-bot-card-title">
        {title}
        <span className="bm-grow" />
        {extra}
      </h3>
      {children}
    </section>
  );
}

const done = (ok: boolean) => <Tag color={ok ? 'success' : 'warning'}>{ok ? B.complete : B.incomplete}</Tag>;

const STATE_TAG: Record<ResourceState, string> = {
  active: 'success',
  expiring: 'warning',
  expired: 'error',
  banned: 'error',
  revoked: 'error',
  cancelled: 'default',
};

function stateTag(s: ResourceState | undefined) {
  if (!s) return <Tag>{B.notAssigned}</Tag>;
  return <Tag color={STATE_TAG[s]}>{s === 'expiring' ? S.resourceState.expiringSoon : S.resourceState[s]}</Tag>;
}

export default function SummaryTab({
  bot,
  resources,
  onOpen,
}: {
  bot: Bot;
  resources: BotResources | undefined;
  onOpen: (tab: BotTab, subtab?: string) => void;
}) {
  const now = Date.now();
  const policy = usePolicy();
  const windows = useExpiryWindows();
  const presence = policy && presenceOf(bot, policy.offlineAfterMs, now);
  const issues = issuesOf(bot, resources, presence, now);
  const critical = issues.filter((i) => i.level === 'error').length;
  const c = bot.character ?? {};
  const a = bot.account ?? {};
  const p = bot.person ?? {};
  const lic = resources?.licenses[0];
  const proxy = resources?.proxies[0];
  const subs = resources?.subscriptions ?? [];
  const nextSub = subs.filter((s) => typeof s.expires_at === 'number' && s.expires_at > now).sort((x, y) => x.expires_at! - y.expires_at!)[0];
  const sched = scheduleSummary(bot);
  const minutesAgo = typeof bot.last_seen === 'number' ? Math.floor((now - bot.last_seen) / 60_000) : undefined;
  const offline = presence === 'offline';
  const projectName = useProjectName();

  return (
    <div className="bm-sum">
      <SubNav />
      <div className="bm-sum-body">
        <div className="bm-health" data-testid="bot-health" id={partId('overview')}>
          <Alert
            type={critical ? 'error' : issues.length ? 'warning' : 'success'}
            showIcon
            message={critical ? B.healthCritical(critical) : issues.length ? B.healthWarnings(issues.length) : B.healthOk}
          />
          {issues.map((i) => (
            <Alert key={i.text} type={i.level} message={i.text} banner />
          ))}
        </div>
        <div className="bm-bot-grid">
          <Card id="character" title={B.character}>
            <div className="bm-signed-in-email">{c.name || B.unnamed}</div>
            <div className="bm-muted">{[c.level ? `${B.level} ${c.level}` : '', c.race, c.class].filter(Boolean).join(' ')}</div>
            <Descriptions size="small" column={2}>
              <Descriptions.Item label={B.server}>{c.server || '—'}</Descriptions.Item>
              <Descriptions.Item label={B.faction}>{c.faction || '—'}</Descriptions.Item>
              <Descriptions.Item label={B.race}>{c.race || '—'}</Descriptions.Item>
              <Descriptions.Item label={B.class}>{c.class || '—'}</Descriptions.Item>
              <Descriptions.Item label={B.level}>{c.level ?? '—'}</Descriptions.Item>
            </Descriptions>
          </Card>
          <Card id="botinfo" title={B.botInfo}>
            <Descriptions size="small" column={1}>
              <Descriptions.Item label={B.botId}>
                <span className="bm-mono">{bot.id}</span> <CopyButton text={bot.id} />
              </Descriptions.Item>
              <Descriptions.Item label={B.project}>{bot.project_id ? <Tag>{projectName(bot.project_id)}</Tag> : '—'}</Descriptions.Item>
              <Descriptions.Item label={B.status}>
                <Space size={12}>
                  <StatusBadge status={storedStatus(bot)} />
                  {presence ? <PresenceBadge presence={presence} /> : null}
                </Space>
              </Descriptions.Item>
              <Descriptions.Item label={B.vm}>{[bot.vm?.name ?? bot.name, bot.vm?.ip].filter(Boolean).join(' • ') || B.noVm}</Descriptions.Item>
              <Descriptions.Item label={B.lastSeen}>
                <Tooltip title={formatDateTime(bot.last_seen)}>
                  <span className={offline ? 'bm-tone-text bm-tone-danger' : undefined}>
                    {minutesAgo === undefined ? '—' : B.minAgo(minutesAgo)}
                  </span>
                </Tooltip>
              </Descriptions.Item>
            </Descriptions>
          </Card>
        </div>
        <div className="bm-bot-grid" id={partId('configure')}>
          <Card title={B.account} extra={done(accountComplete(bot))} onOpen={() => onOpen('configure', 'account')}>
            <Descriptions size="small" column={1}>
              <Descriptions.Item label={B.email}>{a.email || '—'}</Descriptions.Item>
              <Descriptions.Item label={B.password}>
                {a.password ? (
                  <>
                    {'••••••••'} <CopyButton text={a.password} />
                  </>
                ) : (
                  '—'
                )}
              </Descriptions.Item>
              <Descriptions.Item label={B.provider}>{a.email?.includes('@') ? a.email.split('@')[1] : '—'}</Descriptions.Item>
              <Descriptions.Item label={B.registered}>{a.bnet_created_at ? String(a.bnet_created_at) : '—'}</Descriptions.Item>
            </Descriptions>
          </Card>
          <Card title={B.person} extra={done(personComplete(bot))} onOpen={() => onOpen('configure', 'person')}>
            <Descriptions size="small" column={1}>
              <Descriptions.Item label={B.name}>{[p.first_name, p.last_name].filter(Boolean).join(' ') || '—'}</Descriptions.Item>
              <Descriptions.Item label={B.location}>{[p.country, p.city].filter(Boolean).join(', ') || '—'}</Descriptions.Item>
              <Descriptions.Item label={B.birth}>{p.birth_date || '—'}</Descriptions.Item>
            </Descriptions>
          </Card>
          <Card title={B.schedule} extra={done(sched.days > 0)} onOpen={() => onOpen('configure', 'schedule')}>
            <div>{sched.days ? B.scheduleSessions(sched.active, sched.sessions) : B.scheduleNone}</div>
            {sched.days ? <div className="bm-muted">{B.scheduleDays(sched.days)}</div> : null}
          </Card>
        </div>
        <h3 className="bm-section-title" id={partId('resources')}>
          {B.statusSummary}
        </h3>
        {!resources ? (
          <Skeleton active paragraph={{ rows: 2 }} />
        ) : (
          <div className="bm-bot-grid">
            <Card title={B.license} extra={stateTag(lic && licenseState(lic, windows.licenses, now))} onOpen={() => onOpen('resources', 'license')}>
              {lic ? (
                <>
                  <div className="bm-mono">{lic.key && lic.key.length > 12 ? `${lic.key.slice(0, 6)}...${lic.key.slice(-4)}` : lic.key}</div>
                  <div className="bm-muted">
                    {B.expires}: {formatDate(lic.expires_at)}
                  </div>
                </>
              ) : null}
            </Card>
            <Card title={B.proxy} extra={stateTag(proxy && proxyState(proxy, windows.proxies, now))} onOpen={() => onOpen('resources', 'proxy')}>
              {proxy ? (
                <>
                  <div className="bm-mono">{proxyAddress(proxy)}</div>
                  <div className="bm-muted">
                    {B.expires}: {formatDate(proxy.expires_at)}
                  </div>
                </>
              ) : null}
            </Card>
            <Card
              title={B.subscriptions}
              extra={subs.length ? stateTag(worst(subs.map((s) => subscriptionState(s, WARN_DAYS, now)))) : <Tag>{S.crud.none}</Tag>}
              onOpen={() => onOpen('resources', 'subscription')}
            >
              {subs.length ? (
                <>
                  <div>{B.activeOf(subs.filter((s) => subscriptionState(s, WARN_DAYS, now) !== 'expired').length, subs.length)}</div>
                  {nextSub ? (
                    <div className="bm-muted">
                      {formatDate(nextSub.expires_at)} ({S.resourceState.daysLeft(daysLeft(nextSub.expires_at) ?? 0)})
                    </div>
                  ) : null}
                </>
              ) : null}
            </Card>
          </div>
        )}
      </div>
    </div>
  );
}
