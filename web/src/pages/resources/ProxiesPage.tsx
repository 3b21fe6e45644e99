// Proxies (`/proxies`, web-ui.md §2.5): stats, filters, server-paged table,
// add/edit dialog with the proxy-string parser, IP quality checks (one row,
// or up to 10 selected rows per batch) through our IPQS routes.

import { useMemo, useState } from 'react';
import { App, Button, Tag } from 'antd';
import {
  CopyOutlined,
  DeleteOutlined,
  EditOutlined,
  GlobalOutlined,
  PlusOutlined,
  SafetyCertificateOutlined,
} from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import dayjs from 'dayjs';
import { errorMessage } from '../../api/client';
import { IPQS_BATCH_MAX, ipqsApi, proxiesApi, type Proxy } from '../../api/resources';
import {
  BulkBar,
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
import { STATE_COLOR, proxyAddress, proxyState, stateLabel, type ResourceState } from '../../models/expiry';
import { parseProxy, proxyString } from '../../models/proxyString';
import FraudScore from './FraudScore';
import { ProxyFields, fromIpqs, proxyBody, useIpqsConfig, type ProxyForm } from './ResourceForms';
import { useAllOf, useExpiryWindows } from '../../models/resourceStats';

const P = S.proxies;
const STATUS_FILTERS: ResourceState[] = ['active', 'expiring', 'expired', 'banned'];




function IpqsFlags({ p }: { p: Partial<Proxy> }) {
  return (
    <>
      {p.vpn ? <Tag color="orange">VPN</Tag> : null}
      {p.proxy ? <Tag color="gold">PROXY</Tag> : null}
      {p.tor ? <Tag color="red">TOR</Tag> : null}
      {p.bot_status ? <Tag color="magenta">BOT</Tag> : null}
    </>
  );
}


export default function ProxiesPage() {
  const { message } = App.useApp();
  const all = useAllOf(proxiesApi.all);
  const warnDays = useExpiryWindows().proxies;
  const bots = useBotIndex();
  const ipqsConfig = useIpqsConfig();
  const { ipqsOn, threshold } = ipqsConfig;

  const table = useListTable<Proxy>({
    load: (s) =>
      proxiesApi.page({
        ...s,
        filters: { state: s.filters.status || undefined, type: s.filters.type || undefined, country_code: s.filters.country || undefined },
      }),
    rowKey: (p) => p.id,
    defaultLimit: 10,
    filterKeys: ['status', 'type', 'country'],
    pollMs: 7_000,
  });
  const [editing, setEditing] = useState<Proxy | 'new' | null>(null);
  const [checking, setChecking] = useState<string[]>([]);
  const refresh = () => {
    table.refresh();
    all.refresh();
  };

  const items = all.data ?? [];
  const countries = useMemo(
    () => [...new Set(items.map((p) => p.country_code ?? '').filter(Boolean))].sort(),
    [items],
  );
  const count = (s: ResourceState) => items.filter((p) => proxyState(p, warnDays) === s).length;

  const remove = useDeleteAction<Proxy>({
    remove: (p) => proxiesApi.remove(p.id),
    recreate: (p) => proxiesApi.create(p),
    confirm: (p) => ({ title: P.deleteTitle, content: P.deleteText(proxyAddress(p)) }),
    label: (p) => P.label(proxyAddress(p)),
    onChange: refresh,
  });

  const recheck = async (p: Proxy) => {
    if (!ipqsOn || !p.ip) {
      message.warning(P.ipqsOff);
      return;
    }
    setChecking((c) => [...c, p.id]);
    try {
      const r = await ipqsApi.check(p.ip, true);
      const patch = fromIpqs(r, threshold);
      await proxiesApi.patch(p.id, patch);
      message.success(P.checked(r.fraud_score ?? 0));
      if (patch.status === 'banned') message.warning(P.highScore(r.fraud_score ?? 0));
      refresh();
    } catch (e) {
      message.error(errorMessage(e));
    } finally {
      setChecking((c) => c.filter((x) => x !== p.id));
    }
  };

  const checkSelected = async () => {
    const rows = table.selectedRows.filter((p) => p.ip);
    if (!ipqsOn) {
      message.warning(P.ipqsOff);
      return;
    }
    if (rows.length > IPQS_BATCH_MAX) {
      message.warning(P.checkLimit(IPQS_BATCH_MAX));
      return;
    }
    setChecking(rows.map((p) => p.id));
    try {
      const { results } = await ipqsApi.checkBatch([...new Set(rows.map((p) => p.ip!))]);
      const byIp = new Map(results.map((r) => [r.ip, r] as const));
      let ok = 0;
      let failed = 0;
      await Promise.all(
        rows.map(async (p) => {
          const r = byIp.get(p.ip!);
          if (!r?.success || !r.data) {
            failed++;
            return;
          }
          try {
            await proxiesApi.patch(p.id, fromIpqs(r.data, threshold));
            ok++;
          } catch {
            failed++;
          }
        }),
      );
      (failed ? message.warning : message.success)(P.batchChecked(ok, failed));
      table.setSelected([]);
      refresh();
    } catch (e) {
      message.error(errorMessage(e));
    } finally {
      setChecking([]);
    }
  };

  const columns: ColumnsType<Proxy> = [
    {
      key: 'status',
      title: P.colStatus,
      sorter: true,
      render: (_, p) => {
        const s = proxyState(p, warnDays);
        return <Tag color={STATE_COLOR[s]}>{stateLabel(s).toUpperCase()}</Tag>;
      },
    },
    {
      key: 'ip',
      title: P.colProxy,
      sorter: true,
      render: (_, p) => (
        <>
          <Button
            size="small"
            type="text"
            className="bm-mono"
            icon={<CopyOutlined />}
            onClick={() => void navigator.clipboard?.writeText(proxyString(p)).then(() => message.success(P.copied))}
          >
            {proxyAddress(p)}
          </Button>
          {p.login ? <span className="bm-sub bm-mono">{`${p.login}:${p.password ?? ''}`}</span> : null}
        </>
      ),
    },
    {
      key: 'country_code',
      title: P.colLocation,
      sorter: true,
      render: (_, p) => (
        <>
          <span>{p.country_code ?? p.country ?? '—'}</span> <IpqsFlags p={p} />
          {p.type ? <span className="bm-sub">{p.type.toUpperCase()}{p.provider ? ` · ${p.provider}` : ''}</span> : null}
        </>
      ),
    },
    { key: 'fraud_score', title: P.colFraud, sorter: true, render: (_, p) => <FraudScore proxy={p} /> },
    {
      key: 'bot_id',
      title: P.colBot,
      sorter: true,
      render: (_, p) => (p.bot_id ? <BotRef id={p.bot_id} bot={bots.data?.get(p.bot_id)} /> : <span className="bm-muted">{S.crud.none}</span>),
    },
    { key: 'expires_at', title: P.colExpires, sorter: true, render: (_, p) => formatDate(p.expires_at) },
    { key: 'days', title: P.colDaysLeft, render: (_, p) => <DaysLeft expiresAt={p.expires_at} /> },
    {
      key: 'actions',
      title: P.colActions,
      render: (_, p) => (
        <span className="bm-actions">
          <IconAction
            title={P.recheck}
            icon={<SafetyCertificateOutlined />}
            loading={checking.includes(p.id)}
            onClick={() => void recheck(p)}
            testId="recheck"
          />
          <IconAction title={S.crud.edit} icon={<EditOutlined />} onClick={() => setEditing(p)} />
          <IconAction title={S.crud.delete} icon={<DeleteOutlined />} danger onClick={() => remove(p)} />
        </span>
      ),
    },
  ];

  const current = editing && editing !== 'new' ? editing : undefined;
  const botOptions = [...(bots.data?.values() ?? [])]
    .filter((b) => b.status !== 'banned')
    .map((b) => ({ value: b.id, label: `${botLabel(b)} - ${b.id}` }));

  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <PageHeader
          id="proxies"
          icon={<GlobalOutlined />}
          title={P.title}
          subtitle={P.subtitle}
          statsLoading={!all.data && all.loading}
          stats={[
            { label: S.licenses.total, value: items.length, testId: 'stat-total' },
            { label: S.resourceState.active, value: count('active'), tone: 'success' },
            { label: S.resourceState.expiringSoon, value: count('expiring'), tone: 'warning' },
            { label: S.resourceState.expired, value: count('expired'), tone: 'danger' },
            { label: S.resourceState.unassigned, value: items.filter((p) => !p.bot_id).length, tone: 'muted' },
          ]}
          actions={
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
              {P.add}
            </Button>
          }
        />
        <FilterBar
          table={table}
          placeholder={P.search}
          selects={[
            { key: 'status', label: P.colStatus, options: STATUS_FILTERS.map((s) => ({ value: s, label: stateLabel(s) })) },
            { key: 'type', label: P.type, width: 130, options: [{ value: 'http', label: 'HTTP' }, { value: 'socks5', label: 'SOCKS5' }] },
            { key: 'country', label: P.country, width: 140, options: countries.map((c) => ({ value: c, label: c })) },
          ]}
        />
        <BulkBar table={table}>
          <Button
            size="small"
            icon={<SafetyCertificateOutlined />}
            loading={checking.length > 0}
            disabled={table.selected.length > IPQS_BATCH_MAX}
            title={P.checkLimit(IPQS_BATCH_MAX)}
            onClick={() => void checkSelected()}
          >
            {P.checkSelected}
          </Button>
        </BulkBar>
        <ListTable table={table} columns={columns} noun={P.noun} emptyText={P.empty} emptyAction={<Button icon={<PlusOutlined />} onClick={() => setEditing('new')}>{S.crud.addFirst(P.noun[0])}</Button>} selectable testId="proxies-table" />
      </div>
      <EntityDialog<ProxyForm>
        open={editing !== null}
        width={700}
        title={current ? P.edit : P.add}
        okText={current ? S.crud.save : P.add}
        successMessage={current ? P.updated : P.created}
        fieldMap={{ expires_at: 'expires', ip: 'proxy', port: 'proxy', login: 'proxy', password: 'proxy', type: 'proxy' }}
        initialValues={{
          proxy: current ? proxyString(current) : '',
          provider: current?.provider ?? '',
          bot_id: current?.bot_id ?? undefined,
          expires: dayjs(current?.expires_at ?? Date.now() + 30 * 86_400_000),
        }}
        onClose={() => setEditing(null)}
        testId="proxy-dialog"
        // OK waits for a proxy string that parses.
        okDisabled={(v) => !parseProxy(v.proxy ?? '')}
        onSubmit={async (v) => {
          const body = await proxyBody(v, current, ipqsConfig, message.warning);
          if (current) await proxiesApi.patch(current.id, body);
          else await proxiesApi.create(body);
          refresh();
        }}
      >
        {(form) => <ProxyFields form={form} botOptions={botOptions} />}
      </EntityDialog>
    </div>
  );
}

