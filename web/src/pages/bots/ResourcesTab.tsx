// Resources of a bot (web-ui.md §2.3): its license(s), proxy and
// subscriptions, with assign / unassign, creating a new license or proxy
// already bound to the bot (the same fields as the resource pages), and the
// subscription form; `?subtab` scrolls to a section.

import { useEffect, useState, type ReactNode } from 'react';
import { App, Button, Descriptions, Empty, Select, Skeleton, Space, Tag } from 'antd';
import { DeleteOutlined, DisconnectOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import type { Bot } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { licensesApi, proxiesApi, subscriptionsApi, type Subscription } from '../../api/resources';
import { CopyButton, DaysLeft, EntityDialog, IconAction, formatDate, useDeleteAction } from '../../components/crud';
import { formatDateTime } from '../../format';
import { S } from '../../strings';
import FraudScore from '../resources/FraudScore';
import SubscriptionDialog from '../resources/SubscriptionDialog';
import { STATE_COLOR, licenseState, proxyAddress, proxyState, stateLabel, subscriptionState, type ResourceState } from '../resources/expiry';
import { proxyString } from '../resources/proxyString';
import { LicenseFields, ProxyFields, proxyBody, useIpqsConfig, type ProxyForm } from '../resources/resourceForms';
import { useWarningDays } from '../resources/useResourceStats';
import type { BotResources } from './useBotResources';

const B = S.bot;

function Section({ id, title, extra, children }: { id: string; title: string; extra?: ReactNode; children: ReactNode }) {
  return (
    <section className="bm-bot-card" id={`bot-${id}`} data-testid={`bot-${id}`}>
      <h3 className="bm-bot-card-title">
        {title}
        <span className="bm-grow" />
        {extra}
      </h3>
      {children}
    </section>
  );
}

interface LicenseForm {
  key: string;
  type: string;
  expires: Dayjs;
}

/** New resources expire in 30 days unless changed. */
const inThirtyDays = () => dayjs(Date.now() + 30 * 86_400_000);

const stateTag = (s: ResourceState) => <Tag color={STATE_COLOR[s]}>{stateLabel(s)}</Tag>;

export default function ResourcesTab({
  bot,
  resources,
  subtab,
  onChange,
}: {
  bot: Bot;
  resources: BotResources | undefined;
  subtab?: string;
  onChange: () => void;
}) {
  const { message, modal } = App.useApp();
  const warnDays = useWarningDays() ?? 7;
  const [editing, setEditing] = useState<Subscription | 'new' | null>(null);
  const [creating, setCreating] = useState<'license' | 'proxy' | null>(null);
  const ipqsConfig = useIpqsConfig();

  const loaded = resources !== undefined;
  useEffect(() => {
    if (subtab && loaded) document.getElementById(`bot-${subtab}`)?.scrollIntoView({ block: 'start' });
  }, [subtab, loaded]);

  const act = async (call: Promise<unknown>, done: string) => {
    try {
      await call;
      message.success(done);
      onChange();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const confirmUnassign = (content: string, call: () => Promise<unknown>) =>
    modal.confirm({
      title: B.unassign,
      content,
      okText: B.unassign,
      cancelText: S.crud.cancel,
      onOk: () => act(call(), B.unassigned),
    });

  // Unassign takes this bot off the license and deletes the license when no bot remains
  // (web-ui.md §2.3). The bots are read afresh, so a bot linked meanwhile keeps it alive.
  const unassignLicense = async (id: string) => {
    try {
      const rest = ((await licensesApi.get(id)).bot_ids ?? []).filter((x) => x !== bot.id);
      if (rest.length) await licensesApi.patch(id, { bot_ids: rest });
      else await licensesApi.remove(id);
      message.success(rest.length ? B.unassigned : B.licenseUnassignedDeleted);
      onChange();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const removeSub = useDeleteAction<Subscription>({
    remove: (s) => subscriptionsApi.remove(s.id),
    recreate: (s) => subscriptionsApi.create(s),
    confirm: (s) => ({ title: S.subscriptions.deleteTitle, content: S.subscriptions.deleteText(s.type ?? 'wow', bot.character?.name ?? bot.id) }),
    label: (s) => S.subscriptions.label(s.type ?? 'wow'),
    onChange,
  });

  if (!resources) return <Skeleton active paragraph={{ rows: 6 }} />;

  const assign = (placeholder: string, options: { value: string; label: string }[], onPick: (id: string) => void, create: 'license' | 'proxy') => (
    <Space size={6}>
      <Button size="small" icon={<PlusOutlined />} onClick={() => setCreating(create)} data-testid={`create-${create}`}>
        {create === 'license' ? B.createLicense : B.createProxy}
      </Button>
      <Select
      size="small"
      showSearch
      style={{ width: 260 }}
      placeholder={placeholder}
      aria-label={placeholder}
      optionFilterProp="label"
      value={null}
      disabled={options.length === 0}
      options={options}
      onChange={onPick}
      />
    </Space>
  );

  return (
    <>
      <Section
        id="license"
        title={B.licenseTitle}
        extra={assign(
          `${B.add}: ${B.license}`,
          resources.freeLicenses.map((l) => ({ value: l.id, label: `${l.key ?? l.id} (${l.type ?? ''}) - ${B.expires}: ${formatDate(l.expires_at)}` })),
          (id) => {
            const l = resources.freeLicenses.find((x) => x.id === id);
            if (l) void act(licensesApi.patch(l.id, { bot_ids: [...(l.bot_ids ?? []), bot.id] }), S.crud.saved);
          },
          'license',
        )}
      >
        {resources.licenses.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={B.noLicense} />
        ) : (
          resources.licenses.map((l) => (
            <Descriptions key={l.id} size="small" column={3} bordered className="bm-res-block">
              <Descriptions.Item label={B.key} span={2}>
                <span className="bm-mono">{l.key}</span> <CopyButton text={l.key ?? ''} />
              </Descriptions.Item>
              <Descriptions.Item label={B.status}>{stateTag(licenseState(l))}</Descriptions.Item>
              <Descriptions.Item label={B.type}>{l.type}</Descriptions.Item>
              <Descriptions.Item label={B.expires}>{formatDate(l.expires_at)}</Descriptions.Item>
              <Descriptions.Item label={B.daysLeft}>
                <DaysLeft expiresAt={l.expires_at} />
              </Descriptions.Item>
              <Descriptions.Item label={B.createdAt}>{formatDateTime(l.created_at)}</Descriptions.Item>
              <Descriptions.Item label="" span={2}>
                <Button
                  size="small"
                  icon={<DisconnectOutlined />}
                  data-testid="unassign-license"
                  onClick={() =>
                    modal.confirm({
                      title: B.unassign,
                      content: (l.bot_ids ?? []).some((x) => x !== bot.id) ? B.unassignLicenseText : B.unassignLicenseDeletes,
                      okText: B.unassign,
                      okButtonProps: { danger: true },
                      cancelText: S.crud.cancel,
                      onOk: () => unassignLicense(l.id),
                    })
                  }
                >
                  {B.unassign}
                </Button>
              </Descriptions.Item>
            </Descriptions>
          ))
        )}
      </Section>
      <Section
        id="proxy"
        title={B.proxyTitle}
        extra={assign(
          `${B.add}: ${B.proxy}`,
          resources.freeProxies.map((p) => ({ value: p.id, label: `${proxyAddress(p)} ${p.country_code ?? ''} - ${B.expires}: ${formatDate(p.expires_at)}` })),
          (id) => void act(proxiesApi.patch(id, { bot_id: bot.id }), S.crud.saved),
          'proxy',
        )}
      >
        {resources.proxies.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={B.noProxy} />
        ) : (
          resources.proxies.map((p) => (
            <Descriptions key={p.id} size="small" column={3} bordered className="bm-res-block">
              <Descriptions.Item label={B.proxy} span={2}>
                <span className="bm-mono">{proxyString(p)}</span> <CopyButton text={proxyString(p)} />
              </Descriptions.Item>
              <Descriptions.Item label={B.status}>{stateTag(proxyState(p))}</Descriptions.Item>
              <Descriptions.Item label={B.type}>
                <Tag color={p.type === 'http' ? 'cyan' : 'blue'}>{(p.type ?? 'socks5').toUpperCase()}</Tag>
              </Descriptions.Item>
              <Descriptions.Item label={B.provider}>{p.provider ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={B.country}>{p.country ?? p.country_code ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={B.fraudScore}>
                <FraudScore proxy={p} />
              </Descriptions.Item>
              <Descriptions.Item label={B.expires}>{formatDateTime(p.expires_at)}</Descriptions.Item>
              <Descriptions.Item label="">
                <Button
                  size="small"
                  icon={<DisconnectOutlined />}
                  onClick={() => confirmUnassign(B.unassignProxyText, () => proxiesApi.patch(p.id, { bot_id: null }))}
                >
                  {B.unassign}
                </Button>
              </Descriptions.Item>
            </Descriptions>
          ))
        )}
      </Section>
      <Section
        id="subscription"
        title={B.subscriptions}
        extra={
          <Button size="small" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
            {B.add}
          </Button>
        }
      >
        {resources.subscriptions.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={B.noSubscriptions} />
        ) : (
          resources.subscriptions.map((s) => (
            <Descriptions key={s.id} size="small" column={4} bordered className="bm-res-block">
              <Descriptions.Item label={B.type}>{(s.type ?? 'wow').toUpperCase()}</Descriptions.Item>
              <Descriptions.Item label={B.status}>{stateTag(subscriptionState(s, warnDays))}</Descriptions.Item>
              <Descriptions.Item label={B.expires}>{formatDate(s.expires_at)}</Descriptions.Item>
              <Descriptions.Item label={B.daysLeft}>
                <DaysLeft expiresAt={s.expires_at} />
              </Descriptions.Item>
              <Descriptions.Item label={B.email}>{s.account_email ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={S.subscriptions.autoRenew}>{s.auto_renew ? S.common.yes : S.common.no}</Descriptions.Item>
              <Descriptions.Item label="" span={2}>
                <IconAction title={S.crud.edit} icon={<EditOutlined />} onClick={() => setEditing(s)} />
                <IconAction title={S.crud.delete} icon={<DeleteOutlined />} danger onClick={() => removeSub(s)} />
              </Descriptions.Item>
            </Descriptions>
          ))
        )}
      </Section>
      <EntityDialog<LicenseForm>
        open={creating === 'license'}
        title={B.createLicense}
        okText={S.licenses.add}
        successMessage={B.licenseCreated}
        fieldMap={{ expires_at: 'expires' }}
        initialValues={{ key: '', type: resources.licenseTypes[0] ?? '', expires: inThirtyDays() }}
        onClose={() => setCreating(null)}
        testId="bot-license-dialog"
        onSubmit={async (v) => {
          const expires_at = v.expires.endOf('day').valueOf();
          await licensesApi.create({ key: v.key.trim(), type: v.type.trim(), expires_at, bot_ids: [bot.id], status: expires_at <= Date.now() ? 'expired' : 'active' });
          onChange();
        }}
      >
        <LicenseFields types={resources.licenseTypes} />
      </EntityDialog>
      <EntityDialog<ProxyForm>
        open={creating === 'proxy'}
        width={700}
        title={B.createProxy}
        okText={S.proxies.add}
        successMessage={B.proxyCreated}
        fieldMap={{ expires_at: 'expires', ip: 'proxy', port: 'proxy', login: 'proxy', password: 'proxy', type: 'proxy' }}
        initialValues={{ proxy: '', provider: '', bot_id: bot.id, expires: inThirtyDays() }}
        onClose={() => setCreating(null)}
        testId="bot-proxy-dialog"
        onSubmit={async (v) => {
          await proxiesApi.create(await proxyBody({ ...v, bot_id: bot.id }, undefined, ipqsConfig, message.warning));
          onChange();
        }}
      >
        {(form) => <ProxyFields form={form} />}
      </EntityDialog>
      <SubscriptionDialog
        open={editing !== null}
        current={editing && editing !== 'new' ? editing : undefined}
        botId={bot.id}
        bots={new Map([[bot.id, bot]])}
        onClose={() => setEditing(null)}
        onSaved={onChange}
      />
    </>
  );
}
