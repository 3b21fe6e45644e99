// Settings (web-ui.md §2.13): one card per document, each saved on its own;
// secrets live in the vault and are never shown back; theme mode and the
// visual background apply to the whole app at once.

import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { App, Button, Card, Form, InputNumber, Radio, Space, Switch, Table, Typography } from 'antd';
import {
  ApiOutlined,
  BgColorsOutlined,
  DatabaseOutlined,
  DeleteOutlined,
  EditOutlined,
  GlobalOutlined,
  KeyOutlined,
  PlusOutlined,
  ProfileOutlined,
  ReloadOutlined,
  SafetyOutlined,
  ToolOutlined,
  UserOutlined,
  WarningOutlined,
} from '@ant-design/icons';
import { useSession } from '../../api/session';
import { PageHeader } from '../../components/crud';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { botsApi } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { projectsApi, type ProjectInfo } from '../../api/projects';
import ProjectDialog from '../projects/ProjectDialog';
import '../workspace/workspace.css';
import './settings.css';
import { isMasked, SECRET_MASK, secretOut, settingsApi, type ApiKeys } from '../../api/settings';
import DeliveriesCard from './DeliveriesCard';
import DocCard from './DocCard';
import NotificationsCard, { TelegramCard, WebhookCard } from './NotificationsCard';
import SecretField from './SecretField';
import ThemeCard from './ThemeCard';

const T = S.settingsPage;

interface IpqsForm {
  enabled: boolean;
  api_key: string;
}

// PUT api_keys replaces a sub-object whole, so each card sends all of its own.
const keys = {
  load: () => settingsApi.get<ApiKeys>('api_keys').then((k) => k ?? {}),
  save: (body: ApiKeys) => settingsApi.put<ApiKeys>('api_keys', body),
};

function IpqsCard({ reloadKey }: { reloadKey: number }) {
  const [isSet, setIsSet] = useState(false);
  const load = useCallback(async (): Promise<IpqsForm> => {
    const k = await keys.load();
    setIsSet(isMasked(k.ipqs?.api_key));
    return { enabled: k.ipqs?.enabled === true, api_key: isMasked(k.ipqs?.api_key) ? SECRET_MASK : '' };
  }, []);
  const save = async (v: IpqsForm): Promise<IpqsForm> => {
    const k = await keys.save({ ipqs: { enabled: v.enabled, api_key: secretOut(v.api_key, isSet) } });
    const nowSet = isMasked(k.ipqs?.api_key);
    setIsSet(nowSet);
    return { enabled: k.ipqs?.enabled === true, api_key: nowSet ? SECRET_MASK : '' };
  };
  return (
    <DocCard<IpqsForm> title={T.ipqs} icon={<SafetyOutlined />} load={load} save={save} saveLabel={T.saveIpqs} saved={T.apiKeysSaved} reloadKey={reloadKey} testId="settings-ipqs">
      <Form.Item name="enabled" label={T.ipqsEnabled} valuePropName="checked">
        <Switch />
      </Form.Item>
      <Form.Item name="api_key" label={T.apiKey}>
        <SecretField isSet={isSet} />
      </Form.Item>
    </DocCard>
  );
}

interface ProxyForm {
  auto_check_on_add: boolean;
  fraud_score_threshold: number;
  check_interval_hours: number;
}

const proxyForm = (p: Partial<ProxyForm> | null): ProxyForm => ({
  auto_check_on_add: p?.auto_check_on_add ?? true,
  fraud_score_threshold: p?.fraud_score_threshold ?? 75,
  check_interval_hours: p?.check_interval_hours ?? 0,
});

const range = (lo: number, hi: number) => [
  { required: true, message: T.required },
  { type: 'number' as const, min: lo, max: hi, message: T.range(lo, hi) },
];

function ProxyCard({ reloadKey }: { reloadKey: number }) {
  const load = useCallback(() => settingsApi.get<ProxyForm>('proxy').then(proxyForm), []);
  const save = (v: ProxyForm) => settingsApi.put<ProxyForm>('proxy', v).then(proxyForm);
  return (
    <DocCard<ProxyForm> title={T.proxy} icon={<GlobalOutlined />} load={load} save={save} saveLabel={T.saveProxy} saved={T.proxySaved} reloadKey={reloadKey} testId="settings-proxy">
      <Form.Item name="auto_check_on_add" label={T.autoCheck} valuePropName="checked">
        <Switch />
      </Form.Item>
      <Form.Item name="fraud_score_threshold" label={T.fraudThreshold} extra={T.fraudHelp} rules={range(0, 100)}>
        <InputNumber precision={0} style={{ width: '100%' }} />
      </Form.Item>
      <Form.Item name="check_interval_hours" label={T.checkInterval} extra={T.checkIntervalHelp} rules={range(0, 168)}>
        <InputNumber precision={0} style={{ width: '100%' }} />
      </Form.Item>
    </DocCard>
  );
}

interface AlertsForm {
  warning_days: number;
}

function AlertsCard({ reloadKey }: { reloadKey: number }) {
  const load = useCallback(
    () => settingsApi.get<Partial<AlertsForm>>('alerts').then((a) => ({ warning_days: a?.warning_days ?? 7 })),
    [],
  );
  const save = (v: AlertsForm) =>
    settingsApi.put<Partial<AlertsForm>>('alerts', { warning_days: v.warning_days }).then((a) => ({ warning_days: a?.warning_days ?? v.warning_days }));
  return (
    <DocCard<AlertsForm> title={T.alerts} icon={<WarningOutlined />} load={load} save={save} saveLabel={T.saveAlerts} saved={T.alertsSaved} reloadKey={reloadKey} testId="settings-alerts">
      <Form.Item name="warning_days" label={T.warnDays} extra={T.warnDaysHelp} rules={range(1, 90)}>
        <InputNumber precision={0} style={{ width: '100%' }} />
      </Form.Item>
    </DocCard>
  );
}

interface StorageForm {
  operational: 'local' | 'cloud';
  sync: boolean;
}

function StorageCard({ reloadKey }: { reloadKey: number }) {
  type Doc = { operational?: string; sync?: { enabled?: boolean } } | null;
  const toForm = (d: Doc): StorageForm => ({ operational: d?.operational === 'cloud' ? 'cloud' : 'local', sync: d?.sync?.enabled === true });
  const load = useCallback(() => settingsApi.get<Doc>('storage_policy').then(toForm), []);
  const save = (v: StorageForm) =>
    settingsApi
      .put<Doc>('storage_policy', { secrets: 'local-only', operational: v.operational, sync: { enabled: v.sync } })
      .then(toForm);
  return (
    <DocCard<StorageForm> title={T.storage} icon={<DatabaseOutlined />} load={load} save={save} saveLabel={T.saveStorage} saved={T.storageSaved} reloadKey={reloadKey} testId="settings-storage">
      <Form.Item label={T.secrets}>
        <Typography.Text strong>{T.secretsLocal}</Typography.Text>
      </Form.Item>
      <Form.Item name="operational" label={T.operational}>
        <Radio.Group
          optionType="button"
          options={[
            { value: 'local', label: T.local },
            { value: 'cloud', label: T.cloud },
          ]}
        />
      </Form.Item>
      <Form.Item name="sync" label={T.sync} valuePropName="checked">
        <Switch />
      </Form.Item>
    </DocCard>
  );
}

function ProjectsCard({ reloadKey }: { reloadKey: number }) {
  const { modal, message } = App.useApp();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const load = useCallback(() => settingsApi.get<Record<string, ProjectInfo>>('projects'), []);
  const projects = usePolling(load, 60_000);
  const { refresh } = projects;
  useEffect(() => {
    if (reloadKey) refresh();
  }, [reloadKey, refresh]);
  // `?project=new` (the tree's "New project…") opens the dialog.
  const [editing, setEditing] = useState<ProjectInfo | 'new' | null>(params.get('project') === 'new' ? 'new' : null);
  const close = () => {
    setEditing(null);
    if (params.has('project')) setParams((p) => (p.delete('project'), p), { replace: true });
  };
  const rows = Object.entries(projects.data ?? {})
    .filter(([, p]) => p && typeof p === 'object')
    .map(([id, p]): ProjectInfo => ({ ...p, id }));
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  const nameOf = (r: ProjectInfo) => text(r.name) || r.id;

  const remove = async (r: ProjectInfo) => {
    const bots = await botsApi.page({ page: 1, limit: 1, filters: { project_id: r.id } }).then((p) => p.total);
    if (bots > 0) {
      const box = modal.warning({
        title: T.projectHasBotsTitle(nameOf(r)),
        content: (
          <>
            <p>{T.projectHasBotsText(bots)}</p>
            {/* The modal renders outside the router: navigate from here. */}
            <Button
              type="link"
              style={{ padding: 0 }}
              onClick={() => {
                box.destroy();
                navigate(`/project/${encodeURIComponent(r.id)}`);
              }}
            >
              {T.openProject}
            </Button>
          </>
        ),
      });
      return;
    }
    modal.confirm({
      title: T.deleteProjectTitle(nameOf(r)),
      content: T.deleteProjectText,
      okText: S.crud.deleteConfirm,
      okButtonProps: { danger: true },
      cancelText: S.crud.cancel,
      autoFocusButton: 'cancel',
      onOk: async () => {
        try {
          await projectsApi.remove(r.id);
          message.success(T.projectDeleted(nameOf(r)));
        } catch (e) {
          message.error(errorMessage(e));
        }
        refresh();
      },
    });
  };

  return (
    <Card
      className="bm-card bm-set-card"
      size="small"
      id="projects"
      title={<span className="bm-card-title"><ProfileOutlined /> {T.projects}</span>}
      extra={
        <Button type="primary" size="small" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
          {T.newProject}
        </Button>
      }
    >
      <Table
        size="small"
        rowKey="id"
        pagination={false}
        loading={projects.loading && !projects.data}
        dataSource={rows}
        locale={{ emptyText: T.noProjects }}
        scroll={{ x: 'max-content' }}
        data-testid="projects-table"
        columns={[
          { key: 'name', title: T.colName, render: (_, r) => <Link to={`/project/${encodeURIComponent(r.id)}`}>{nameOf(r)}</Link> },
          { key: 'id', title: T.colId, dataIndex: 'id', render: (v: string) => <span className="bm-mono">{v}</span> },
          { key: 'game', title: T.colGame, render: (_, r) => text(r.game) },
          { key: 'expansion', title: T.colExpansion, render: (_, r) => text(r.expansion) },
          { key: 'max_level', title: T.colMaxLevel, render: (_, r) => text(r.max_level) },
          { key: 'region', title: T.colRegion, render: (_, r) => text(r.server_region) },
          { key: 'currency', title: T.colCurrency, render: (_, r) => text(r.currency) },
          {
            key: 'professions',
            title: T.colProfessions,
            // Names or {name} objects; anything else is left out.
            render: (_, r) =>
              (Array.isArray(r.professions) ? r.professions : [])
                .map((x: unknown) => (typeof x === 'string' ? x : text((x as { name?: unknown } | null)?.name)))
                .filter(Boolean)
                .join(', '),
          },
          {
            key: 'actions',
            title: T.colActions,
            render: (_, r) => (
              <Space size={0}>
                <Button size="small" type="text" icon={<EditOutlined />} aria-label={`${T.rename} ${nameOf(r)}`} onClick={() => setEditing(r)}>
                  {T.rename}
                </Button>
                <Button
                  size="small"
                  type="text"
                  danger
                  icon={<DeleteOutlined />}
                  aria-label={`${T.deleteProject} ${nameOf(r)}`}
                  onClick={() => void remove(r).catch((e: unknown) => message.error(errorMessage(e)))}
                >
                  {T.deleteProject}
                </Button>
              </Space>
            ),
          },
        ]}
      />
      <div className="bm-muted bm-set-help">{T.projectsHelp}</div>
      {editing ? (
        <ProjectDialog
          open
          project={editing === 'new' ? undefined : editing}
          taken={rows.map((r) => r.id)}
          onClose={close}
          onSaved={refresh}
        />
      ) : null}
    </Card>
  );
}

function AccountCard() {
  const session = useSession();
  const admin = session?.user.roles.includes('admin') ?? false;
  return (
    <Card className="bm-card bm-set-card" size="small" title={<span className="bm-card-title"><UserOutlined /> {T.account}</span>}>
      <p className="bm-card-text">{T.accountText}</p>
      <div className="bm-set-links">
        <Link to="/account">
          <Button icon={<KeyOutlined />}>{T.openAccount}</Button>
        </Link>
        {admin && (
          <Link to="/audit">
            <Button icon={<ApiOutlined />}>{T.openAudit}</Button>
          </Link>
        )}
      </div>
    </Card>
  );
}

export default function SettingsPage() {
  const [reloadKey, setReloadKey] = useState(0);
  // A test message adds a delivery row; only the history loads again, not the forms.
  const [tested, setTested] = useState(0);
  const onTested = useCallback(() => setTested((n) => n + 1), []);
  const admin = useSession()?.user.roles.includes('admin') ?? false;
  return (
    <div className="bm-ws-page">
      <PageHeader
        id="settings"
        icon={<ToolOutlined />}
        title={T.title}
        actions={
          <Button icon={<ReloadOutlined />} onClick={() => setReloadKey((k) => k + 1)}>
            {T.refresh}
          </Button>
        }
      />
      {/* API keys and notification channels are an admin's to change (the server refuses others). */}
      {admin && (
        <Card className="bm-card" size="small" title={<span className="bm-card-title"><KeyOutlined /> {T.apiKeys}</span>}>
          <div className="bm-set-grid">
            <IpqsCard reloadKey={reloadKey} />
            <TelegramCard reloadKey={reloadKey} onTested={onTested} />
          </div>
        </Card>
      )}
      <div className="bm-set-grid">
        <ProxyCard reloadKey={reloadKey} />
        <NotificationsCard reloadKey={reloadKey} />
        {admin && <WebhookCard reloadKey={reloadKey} onTested={onTested} />}
        <AlertsCard reloadKey={reloadKey} />
        <StorageCard reloadKey={reloadKey} />
      </div>
      {admin && <DeliveriesCard reloadKey={reloadKey + tested} />}
      <ThemeCard reloadKey={reloadKey} icon={<BgColorsOutlined />} />
      <div className="bm-set-grid">
        <ProjectsCard reloadKey={reloadKey} />
        <AccountCard />
      </div>
    </div>
  );
}
