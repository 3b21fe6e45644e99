// The Overview's server section: who is signed in, the server's health and
// readiness, and where the API reference lives.

import { useCallback, type ReactNode } from 'react';
import { Alert, Button, Card, Col, Row, Skeleton, Tag, Tooltip } from 'antd';
import {
  ApiOutlined,
  CloudServerOutlined,
  LinkOutlined,
  ReloadOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { errorMessage } from '../../api/client';
import { authApi, healthApi, type Readiness, type ReadinessCheck } from '../../api/endpoints';
import { useSession } from '../../api/session';
import { formatDateTime, formatTime, formatUptime, humanizeKey } from '../../format';
import Section from '../../components/Section';
import { usePolling } from '../../hooks';
import { S } from '../../strings';

const SERVER_POLL_MS = 10_000;
const WHOAMI_POLL_MS = 60_000;

function Field({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="bm-field">
      <div className="bm-field-label">{label}</div>
      <div className="bm-field-value" data-testid={testId}>
        {children}
      </div>
    </div>
  );
}

function SessionCard() {
  const session = useSession();
  const load = useCallback(() => authApi.whoami(), []);
  const who = usePolling(load, WHOAMI_POLL_MS);
  const user = session?.user;
  const email = who.data?.email ?? user?.email ?? '';
  const roles = who.data?.roles ?? user?.roles ?? [];
  const tenant = who.data?.tenant_id ?? user?.tenant_id ?? '';
  const uid = who.data?.uid ?? user?.id ?? '';

  return (
    <Card
      className="bm-card"
      title={
        <span className="bm-card-title">
          <UserOutlined /> {S.overview.signedInAs}
        </span>
      }
    >
      <div className="bm-signed-in-email" data-testid="overview-email">
        {email}
      </div>
      <div className="bm-fields">
        <Field label={S.overview.roles} testId="overview-roles">
          {roles.length ? (
            roles.map((r) => (
              <Tag key={r} color={r === 'admin' ? 'blue' : r === 'infra' ? 'purple' : 'default'}>
                {r}
              </Tag>
            ))
          ) : (
            <span className="bm-muted">{S.overview.noRoles}</span>
          )}
        </Field>
        <Field label={S.overview.tenant} testId="overview-tenant">
          <span className="bm-mono">{tenant}</span>
        </Field>
        <Field label={S.overview.userId}>
          <span className="bm-mono">{uid}</span>
        </Field>
        {session?.expires_at != null && (
          <Field label={S.overview.sessionExpires}>{formatDateTime(session.expires_at)}</Field>
        )}
      </div>
    </Card>
  );
}

function checkLabel(name: string): string {
  if (name === 'database') return S.overview.checkDatabase;
  if (name === 'object_store') return S.overview.checkObjectStore;
  return humanizeKey(name);
}

function CheckChip({ name, check }: { name: string; check: ReadinessCheck }) {
  const tone = check.ready ? 'ok' : check.required ? 'bad' : 'warn';
  return (
    <div className={`bm-chip bm-chip-${tone}`} data-testid={`check-${name}`}>
      <div className="bm-chip-value">{check.ready ? S.overview.checkReady : S.overview.checkNotReady}</div>
      <div className="bm-chip-label">
        {checkLabel(name)} · {check.required ? S.overview.required : S.overview.optional}
      </div>
      {check.reason ? <div className="bm-chip-reason">{check.reason}</div> : null}
    </div>
  );
}

function ReadinessTag({ r }: { r: Readiness | undefined }) {
  if (!r) return null;
  return (
    <Tag color={r.ready ? 'success' : 'error'} data-testid="readiness-status" className="bm-status-tag">
      {r.status}
    </Tag>
  );
}

function ServerCard() {
  const loadHealth = useCallback(() => healthApi.health(), []);
  const loadReady = useCallback(() => healthApi.readiness(), []);
  const health = usePolling(loadHealth, SERVER_POLL_MS);
  const ready = usePolling(loadReady, SERVER_POLL_MS);
  const h = health.data;
  const r = ready.data;
  const first = (health.loading && !health.updatedAt) || (ready.loading && !ready.updatedAt);
  const lastChecked = Math.max(health.updatedAt, ready.updatedAt);

  return (
    <Card
      className="bm-card"
      title={
        <span className="bm-card-title">
          <CloudServerOutlined /> {S.overview.server}
        </span>
      }
      extra={
        <span className="bm-card-extra">
          <ReadinessTag r={r} />
          <Tooltip title={S.overview.refresh}>
            <Button
              size="small"
              type="text"
              aria-label={S.overview.refresh}
              icon={<ReloadOutlined spin={health.loading || ready.loading} />}
              onClick={() => {
                health.refresh();
                ready.refresh();
              }}
            />
          </Tooltip>
        </span>
      }
    >
      {first ? (
        <Skeleton active paragraph={{ rows: 3 }} />
      ) : (
        <>
          {health.error ? (
            <Alert
              className="bm-card-alert"
              type="error"
              showIcon
              message={`${S.overview.health}: ${errorMessage(health.error)}`}
            />
          ) : null}
          {ready.error ? (
            <Alert
              className="bm-card-alert"
              type="error"
              showIcon
              message={`${S.overview.readiness}: ${errorMessage(ready.error)}`}
            />
          ) : null}
          <div className="bm-fields">
            <Field label={S.overview.service}>{h?.service ?? '—'}</Field>
            <Field label={S.overview.version} testId="server-version">
              {h?.version ?? '—'}
            </Field>
            <Field label={S.overview.dataBackend}>{h?.data_backend ?? '—'}</Field>
            {h?.object_store ? <Field label={S.overview.objectStore}>{h.object_store}</Field> : null}
            <Field label={S.overview.uptime}>{h ? formatUptime(h.uptime_seconds) : '—'}</Field>
            <Field label={S.overview.health} testId="health-status">
              {health.error ? (
                <Tag color="error">{S.overview.healthFailed}</Tag>
              ) : (
                <Tag color="success">{S.overview.healthOk}</Tag>
              )}
            </Field>
            <Field label={S.overview.readiness}>
              {r ? <Tag color={r.ready ? 'success' : 'error'}>{r.status}</Tag> : <span className="bm-muted">—</span>}
            </Field>
          </div>
          {r && Object.keys(r.checks ?? {}).length > 0 && (
            <>
              <div className="bm-subhead">{S.overview.checks}</div>
              <div className="bm-chips">
                {Object.entries(r.checks)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([name, c]) => (
                    <CheckChip key={name} name={name} check={c} />
                  ))}
              </div>
            </>
          )}
          {lastChecked > 0 && (
            <div className="bm-card-foot">
              {S.overview.lastChecked}: {formatTime(lastChecked)}
            </div>
          )}
        </>
      )}
    </Card>
  );
}

function ApiCard() {
  return (
    <Card
      className="bm-card"
      title={
        <span className="bm-card-title">
          <ApiOutlined /> {S.overview.apiReference}
        </span>
      }
    >
      <p className="bm-card-text">{S.overview.apiReferenceText}</p>
      <ul className="bm-link-list">
        <li>
          <a href="/api/docs" target="_blank" rel="noopener">
            <LinkOutlined /> {S.overview.apiDocs}
          </a>
        </li>
        <li>
          <a href="/api/v1/openapi.json" target="_blank" rel="noopener">
            <LinkOutlined /> {S.overview.openapi}
          </a>
        </li>
      </ul>
    </Card>
  );
}

export default function ServerSection() {
  return (
    <Section id="status" title={S.overview.sectionStatus}>
      <Row gutter={[12, 12]}>
        <Col xs={24} xl={8}>
          <SessionCard />
        </Col>
        <Col xs={24} xl={10}>
          <ServerCard />
        </Col>
        <Col xs={24} xl={6}>
          <ApiCard />
        </Col>
      </Row>
    </Section>
  );
}
