// Bot detail (`/bot/:id`, web-ui.md §2.3): Summary, Monitoring, Configure,
// Resources and VM Info; tab and sub-tab live in the URL; the bot is polled
// every 5 s.

import { useCallback, type ReactNode } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { Alert, Descriptions, Empty, Result, Segmented, Spin } from 'antd';
import { ExclamationCircleFilled } from '@ant-design/icons';
import { botsApi, type Bot } from '../../api/bots';
import { ApiError, errorMessage } from '../../api/client';
import { CopyButton, formatDate } from '../../components/crud';
import { formatDateTime } from '../../format';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { PresenceBadge, StatusBadge, id8, presenceOf, storedStatus } from '../../models/bots';
import { usePolicy } from '../../policy';
import ConfigureTab, { accountComplete, personComplete } from './ConfigureTab';
import MonitoringTab from './MonitoringTab';
import ResourcesTab from './ResourcesTab';
import SummaryTab from './SummaryTab';
import { useBotResources } from './useBotResources';
import './bot.css';

const B = S.bot;
export const BOT_POLL_MS = 5_000;
const TABS = ['summary', 'monitoring', 'configure', 'resources', 'vm'] as const;
export type BotTab = (typeof TABS)[number];
/** Tab names of older links. */
const OLD_TABS: Record<string, BotTab> = { account: 'configure', person: 'configure', character: 'configure', schedule: 'configure', lifeStages: 'monitoring', license: 'resources', proxy: 'resources', subscription: 'resources' };

function VmTab({ bot }: { bot: Bot }) {
  const name = bot.vm?.name ?? bot.name;
  if (!name) return <Empty description={B.noVmAssigned} />;
  return (
    <div className="bm-bot-card">
      <h3 className="bm-bot-card-title">{B.vmTitle}</h3>
      <Descriptions size="small" column={1} bordered>
        <Descriptions.Item label={B.vmName}>{name}</Descriptions.Item>
        <Descriptions.Item label={B.ip}>
          {bot.vm?.ip ? (
            <>
              <span className="bm-mono">{bot.vm.ip}</span> <CopyButton text={bot.vm.ip} />
            </>
          ) : (
            '—'
          )}
        </Descriptions.Item>
        <Descriptions.Item label={B.createdAt}>{formatDate(bot.vm?.created_at ?? bot.created_at)}</Descriptions.Item>
      </Descriptions>
    </div>
  );
}

export default function BotPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const load = useCallback(() => botsApi.get(id), [id]);
  const bot = usePolling(load, BOT_POLL_MS);
  const resources = useBotResources(id);
  const policy = usePolicy();

  const raw = params.get('tab') ?? 'summary';
  const tab: BotTab = (TABS as readonly string[]).includes(raw) ? (raw as BotTab) : (OLD_TABS[raw] ?? 'summary');
  const subtab = params.get('subtab') ?? (OLD_TABS[raw] ? raw : undefined);
  const go = (t: BotTab, sub?: string) =>
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        n.set('tab', t);
        if (sub) n.set('subtab', sub);
        else n.delete('subtab');
        return n;
      },
      { replace: true },
    );

  const b = bot.data;
  if (!b) {
    if (bot.error instanceof ApiError && bot.error.status === 404) {
      return <Result status="404" title={B.notFoundTitle} subTitle={B.notFoundText(id)} />;
    }
    if (bot.error) return <Result status="error" title={B.errorTitle} subTitle={`${B.errorText}: ${errorMessage(bot.error)}`} />;
    return (
      <div className="bm-page-spinner">
        <Spin size="large" />
        <span className="bm-muted">{B.loading}</span>
      </div>
    );
  }

  const incomplete = !personComplete(b) || !accountComplete(b);
  const label = (t: BotTab, text: string, extra?: ReactNode) => ({
    value: t,
    label: (
      <span data-testid={`tab-${t}`}>
        {text}
        {extra}
      </span>
    ),
  });
  const presence = policy && presenceOf(b, policy.offlineAfterMs);

  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <div className="bm-bot-head">
          <div>
            <h1 className="bm-page-title" data-testid="bot-title">
              {b.character?.name || B.unnamed}
              <span className="bm-muted bm-bot-id"> {b.name || B.noVm} · {id8(b.id)}</span>
            </h1>
          </div>
          <StatusBadge status={storedStatus(b)} />
          {presence ? <PresenceBadge presence={presence} /> : null}
          <span className="bm-grow" />
          <Segmented
            value={tab}
            onChange={(v) => go(v as BotTab)}
            options={[
              label('summary', B.tabSummary),
              label('monitoring', B.tabMonitoring),
              label('configure', B.tabConfigure, incomplete ? <ExclamationCircleFilled className="bm-warn-icon" /> : null),
              label('resources', B.tabResources),
              label('vm', B.tabVm),
            ]}
          />
        </div>
        {bot.error ? <Alert className="bm-page-alert" type="warning" showIcon message={errorMessage(bot.error)} /> : null}
        <div className="bm-bot-body">
          {tab === 'summary' && <SummaryTab bot={b} resources={resources.data} onOpen={go} />}
          {tab === 'monitoring' && <MonitoringTab bot={b} onChange={bot.refresh} />}
          {tab === 'configure' && <ConfigureTab bot={b} subtab={subtab} onSubtab={(s) => go('configure', s)} onSaved={bot.refresh} />}
          {tab === 'resources' && (
            <ResourcesTab bot={b} resources={resources.data} subtab={subtab} onChange={resources.refresh} />
          )}
          {tab === 'vm' && <VmTab bot={b} />}
        </div>
        <div className="bm-card-foot">
          {B.lastSeen}: {b.last_seen ? formatDateTime(b.last_seen) : '—'}
        </div>
      </div>
    </div>
  );
}
