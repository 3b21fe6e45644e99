// Resources of a bot (web-ui.md §2.3): its license(s), proxy and
// subscriptions, with assign / unassign, creating or editing a license or
// proxy bound to the bot (the same fields as the resource pages), alerts for
// what is expired, banned or expiring, and the subscription form; `?subtab`
// scrolls to a section.

import { useEffect, useState, type ReactNode } from 'react';
import { Alert, App, Button, Descriptions, Empty, Select, Skeleton, Space, Tag } from 'antd';
import { DeleteOutlined, DisconnectOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import dayjs, { type Dayjs } from 'dayjs';
import type { Bot } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { licensesApi, proxiesApi, subscriptionsApi, type License, type Proxy, type Subscription } from '../../api/resources';
import { CopyButton, DaysLeft, EntityDialog, IconAction, daysLeft, formatDate, useDeleteAction } from '../../components/crud';
import { DAY_MS, formatDateTime } from '../../format';
import { S } from '../../strings';
import FraudScore from '../resources/FraudScore';
import SubscriptionDialog from '../resources/SubscriptionDialog';
import { STATE_COLOR, licenseState, proxyAddress, proxyState, stateLabel, subscriptionState, type ResourceState } from '../../models/expiry';
import { parseProxy, proxyString } from '../../models/proxyString';
import { LicenseFields, ProxyFields, proxyBody, useIpqsConfig, type ProxyForm } from '../resources/ResourceForms';
import { useExpiryWindows } from '../../models/resourceStats';
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
const inThirtyDays = () => dayjs(Date.now() + 30 * DAY_MS);

const stateTag = (s: ResourceState) => <Tag color={STATE_COLOR[s]}>{stateLabel(s)}</Tag>;

/** What needs doing about a license or proxy that is expired, banned or about to expire; nothing otherwise. */
function ExpiryAlert({ state, days, what }: { state: ResourceState; days: number | undefined; what: string }) {
  if (state !== 'expired' && state !== 'banned' && state !== 'expiring') return null;
  const title = state === 'expiring' ? B.expiresIn(what, days ?? 0) : `${what}: ${stateLabel(state)}`;
  return (
    <Alert
      type={state === 'expiring' ? 'warning' : 'error'}
      showIcon
      className="bm-dialog-alert"
      data-testid="expiry-alert"
      message={title}
      description={`${B.actionRequired}: ${state === 'banned' ? B.actionReplace : B.actionRenew(what)}`}
    />
  );
}

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
  const windows = useExpiryWindows();
  const [editing, setEditing] = useState<Subscription | 'new' | null>(null);
  // The license or proxy dialog: a new one bound to the bot, or one of the bot's to edit.
  const [dialog, setDialog] = useState<{ kind: 'license'; current?: License } | { kind: 'proxy'; current?: Proxy } | null>(null);
  const editingLicense = dialog?.kind === 'license' ? dialog.current : undefined;
  const editingProxy = dialog?.kind === 'proxy' ? dialog.current : undefined;
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
  // (web-ui.md §2.3); the server does both in one step, so a bot linked meanwhile keeps it.
  const unassignLicense = async (id: string) => {
    try {
      const { deleted } = await licensesApi.unassign(id, bot.id);
      message.success(deleted ? B.licenseUnassignedDeleted : B.unassigned);
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
  const attention = resources.subscriptions.filter((x) => ['expired', 'expiring'].includes(subscriptionState(x, windows.subscriptions))).length;

  const assign = (placeholder: string, options: { value: string; label: string }[], onPick: (id: string) => void, create: 'license' | 'proxy') => (
    <Space size={6}>
      <Button size="small" icon={<PlusOutlined />} onClick={() => setDialog({ kind: create })} data-testid={`create-${create}`}>
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
            <div key={l.id} className="bm-res-block">
              <ExpiryAlert state={licenseState(l, windows.licenses)} days={daysLeft(l.expires_at)} what={B.license} />
              <Descriptions size="small" column={3} bordered>
                <Descriptions.Item label={B.key} span={2}>
                  <span className="bm-mono">{l.key}</span> <CopyButton text={l.key ?? ''} />
                </Descriptions.Item>
                <Descriptions.Item label={B.status}>{stateTag(licenseState(l, windows.licenses))}</Descriptions.Item>
                <Descriptions.Item label={B.type}>{l.type}</Descriptions.Item>
                <Descriptions.Item label={B.expires}>{formatDate(l.expires_at)}</Descriptions.Item>
                <Descriptions.Item label={B.daysLeft}>
                  <DaysLeft expiresAt={l.expires_at} />
                </Descriptions.Item>
                <Descriptions.Item label={B.botName}>{bot.character?.name || B.unnamed}</Descriptions.Item>
                <Descriptions.Item label={B.createdAt}>{formatDateTime(l.created_at)}</Descriptions.Item>
                <Descriptions.Item label={B.lastUpdated}>{formatDateTime(l.updated_at)}</Descriptions.Item>
                <Descriptions.Item label="" span={3}>
                  <Button size="small" icon={<EditOutlined />} onClick={() => setDialog({ kind: 'license', current: l })} data-testid="edit-license">
                    {S.crud.edit}
                  </Button>{' '}
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
            </div>
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
            <div key={p.id} className="bm-res-block">
              <ExpiryAlert state={proxyState(p, windows.proxies)} days={daysLeft(p.expires_at)} what={B.proxy} />
              <Descriptions size="small" column={3} bordered>
                <Descriptions.Item label={B.proxy} span={2}>
                  <span className="bm-mono">{proxyString(p)}</span> <CopyButton text={proxyString(p)} />
                </Descriptions.Item>
                <Descriptions.Item label={B.status}>{stateTag(proxyState(p, windows.proxies))}</Descriptions.Item>
                <Descriptions.Item label={B.type}>
                  <Tag color={p.type === 'http' ? 'cyan' : 'blue'}>{(p.type ?? 'socks5').toUpperCase()}</Tag>
                </Descriptions.Item>
                <Descriptions.Item label={B.provider}>{p.provider ?? '—'}</Descriptions.Item>
                <Descriptions.Item label={B.country}>{p.country ?? p.country_code ?? '—'}</Descriptions.Item>
                <Descriptions.Item label={B.fraudScore}>
                  <FraudScore proxy={p} />
                </Descriptions.Item>
                <Descriptions.Item label={B.expires}>
                  {formatDateTime(p.expires_at)} {typeof p.expires_at === 'number' && <span className="bm-muted">{B.daysRemaining(daysLeft(p.expires_at) ?? 0)}</span>}
                </Descriptions.Item>
                <Descriptions.Item label="">
                  <Button size="small" icon={<EditOutlined />} onClick={() => setDialog({ kind: 'proxy', current: p })} data-testid="edit-proxy">
                    {S.crud.edit}
                  </Button>{' '}
                  <Button
                    size="small"
                    icon={<DisconnectOutlined />}
                    onClick={() => confirmUnassign(B.unassignProxyText, () => proxiesApi.patch(p.id, { bot_id: null }))}
                  >
                    {B.unassign}
                  </Button>
                </Descriptions.Item>
              </Descriptions>
            </div>
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
        {attention > 0 && <Alert type="warning" showIcon className="bm-dialog-alert" message={B.subsAttention(attention)} data-testid="subs-attention" />}
        {resources.subscriptions.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={B.noSubscriptions} />
        ) : (
          resources.subscriptions.map((s) => (
            <Descriptions key={s.id} size="small" column={4} bordered className="bm-res-block">
              <Descriptions.Item label={B.type}>{(s.type ?? 'wow').toUpperCase()}</Descriptions.Item>
              <Descriptions.Item label={B.status}>{stateTag(subscriptionState(s, windows.subscriptions))}</Descriptions.Item>
              <Descriptions.Item label={B.expires}>{formatDate(s.expires_at)}</Descriptions.Item>
              <Descriptions.Item label={B.daysLeft}>
                <DaysLeft expiresAt={s.expires_at} />
              </Descriptions.Item>
              <Descriptions.Item label={B.email}>{s.account_email ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={S.subscriptions.autoRenew}>{s.auto_renew ? S.common.yes : S.common.no}</Descriptions.Item>
              <Descriptions.Item label={B.createdAt}>{formatDate(s.created_at)}</Descriptions.Item>
              {s.notes ? <Descriptions.Item label={B.notes}>{s.notes}</Descriptions.Item> : null}
              <Descriptions.Item label="" span={s.notes ? 1 : 2}>
                <IconAction title={S.crud.edit} icon={<EditOutlined />} onClick={() => setEditing(s)} />
                <IconAction title={S.crud.delete} icon={<DeleteOutlined />} danger onClick={() => removeSub(s)} />
              </Descriptions.Item>
            </Descriptions>
          ))
        )}
      </Section>
      <EntityDialog<LicenseForm>
        open={dialog?.kind === 'license'}
        title={editingLicense ? S.licenses.edit : B.createLicense}
        okText={editingLicense ? S.crud.save : S.licenses.add}
        successMessage={editingLicense ? S.licenses.updated : B.licenseCreated}
        fieldMap={{ expires_at: 'expires' }}
        initialValues={{
          key: editingLicense?.key ?? '',
          type: editingLicense?.type ?? resources.licenseTypes[0] ?? '',
          expires: editingLicense?.expires_at ? dayjs(editingLicense.expires_at) : inThirtyDays(),
        }}
        onClose={() => setDialog(null)}
        testId="bot-license-dialog"
        onSubmit={async (v) => {
          const expires_at = v.expires.endOf('day').valueOf();
          // A revoked license stays revoked; otherwise the status follows the date.
          const status = editingLicense?.status === 'revoked' ? 'revoked' : expires_at <= Date.now() ? 'expired' : 'active';
          const body = { key: v.key.trim(), type: v.type.trim(), expires_at, status } as const;
          if (editingLicense) await licensesApi.patch(editingLicense.id, body);
          else await licensesApi.create({ ...body, bot_ids: [bot.id] });
          onChange();
        }}
      >
        <LicenseFields types={resources.licenseTypes} />
      </EntityDialog>
      <EntityDialog<ProxyForm>
        open={dialog?.kind === 'proxy'}
        width={700}
        title={editingProxy ? S.proxies.edit : B.createProxy}
        okText={editingProxy ? S.crud.save : S.proxies.add}
        successMessage={editingProxy ? S.proxies.updated : B.proxyCreated}
        fieldMap={{ expires_at: 'expires', ip: 'proxy', port: 'proxy', login: 'proxy', password: 'proxy', type: 'proxy' }}
        initialValues={{
          proxy: editingProxy ? proxyString(editingProxy) : '',
          provider: editingProxy?.provider ?? '',
          bot_id: bot.id,
          expires: editingProxy?.expires_at ? dayjs(editingProxy.expires_at) : inThirtyDays(),
        }}
        onClose={() => setDialog(null)}
        testId="bot-proxy-dialog"
        // OK waits for a proxy string that parses.
        okDisabled={(v) => !parseProxy(v.proxy ?? '')}
        onSubmit={async (v) => {
          const body = await proxyBody({ ...v, bot_id: bot.id }, editingProxy, ipqsConfig, message.warning);
          if (editingProxy) await proxiesApi.patch(editingProxy.id, body);
          else await proxiesApi.create(body);
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
