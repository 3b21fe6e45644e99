// Form pieces shared by the resource pages and the bot's Resources tab, so a
// license or proxy is created the same way from either: the license fields,
// the proxy fields with the proxy-string parser, and the proxy body with the
// IPQS auto-check on add.

import { useCallback, useState } from 'react';
import { Alert, AutoComplete, Button, DatePicker, Descriptions, Form, Input, Select, type FormInstance } from 'antd';
import type { Dayjs } from 'dayjs';
import { errorMessage } from '../../api/client';
import { DEFAULT_FRAUD_THRESHOLD, proxySettingsApi } from '../../api/projects';
import { ipqsApi, type IpqsResult, type Proxy } from '../../api/resources';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { parseProxy, type ParsedProxy } from '../../models/proxyString';

const L = S.licenses;
const P = S.proxies;

/** Key, type (auto-complete of the existing types) and expiry of a license. */
export function LicenseFields({ types }: { types: string[] }) {
  return (
    <>
      <Form.Item name="key" label={L.key} rules={[{ required: true, whitespace: true, message: L.keyRequired }]}>
        <Input className="bm-mono" placeholder={L.keyPlaceholder} autoFocus />
      </Form.Item>
      <Form.Item name="type" label={L.type} rules={[{ required: true, whitespace: true, message: L.typeRequired }]}>
        <AutoComplete options={types.map((t) => ({ value: t }))} placeholder={L.typePlaceholder} />
      </Form.Item>
      <Form.Item name="expires" label={L.expires} rules={[{ required: true, message: L.expiresRequired }]}>
        <DatePicker format="DD.MM.YYYY" style={{ width: '100%' }} />
      </Form.Item>
    </>
  );
}

export interface ProxyForm {
  proxy: string;
  provider: string;
  bot_id: string;
  expires: Dayjs;
}

export interface IpqsConfig {
  ipqsOn: boolean;
  threshold: number;
  autoCheck: boolean;
}

/** Whether IPQS checks can run, the fraud threshold and the auto-check-on-add switch. */
export function useIpqsConfig(): IpqsConfig {
  const load = useCallback(() => Promise.all([ipqsApi.status(), proxySettingsApi.get()]), []);
  const ipqs = usePolling(load, 60_000);
  return {
    ipqsOn: !!ipqs.data && ipqs.data[0].enabled && ipqs.data[0].configured,
    threshold: ipqs.data?.[1].fraud_score_threshold ?? DEFAULT_FRAUD_THRESHOLD,
    autoCheck: ipqs.data?.[1].auto_check_on_add !== false,
  };
}

/** The proxy fields an IPQS answer sets; above the threshold the proxy is banned. */
export function fromIpqs(r: IpqsResult, threshold: number): Partial<Proxy> {
  const out: Partial<Proxy> = { last_checked: r.checked_at ?? Date.now() };
  for (const k of ['fraud_score', 'country_code', 'city', 'region', 'zip_code', 'isp', 'organization', 'timezone',
    'latitude', 'longitude', 'vpn', 'proxy', 'tor', 'bot_status'] as const) {
    if (r[k] !== undefined) (out as Record<string, unknown>)[k] = r[k];
  }
  if (typeof r.fraud_score === 'number' && r.fraud_score > threshold) out.status = 'banned';
  return out;
}

/** The body to create or update a proxy; a new address is checked when IPQS is on and the settings ask for it. */
export async function proxyBody(v: ProxyForm, current: Proxy | undefined, cfg: IpqsConfig, warn: (msg: string) => void): Promise<Partial<Proxy>> {
  const parsed = parseProxy(v.proxy)!;
  const body: Partial<Proxy> = {
    ...parsed,
    provider: v.provider?.trim() || undefined,
    bot_id: v.bot_id || null,
    expires_at: v.expires.endOf('day').valueOf(),
  };
  if (!current) body.status = 'active';
  if (cfg.ipqsOn && cfg.autoCheck && (!current || current.ip !== parsed.ip)) {
    try {
      Object.assign(body, fromIpqs(await ipqsApi.check(parsed.ip), cfg.threshold));
      if (body.status === 'banned') warn(P.highScore(body.fraud_score ?? 0));
    } catch (e) {
      warn(errorMessage(e));
    }
  }
  return body;
}

function Parsed({ parsed }: { parsed: ParsedProxy }) {

  const [show, setShow] = useState(false);
  return (
    <Alert
      type="success"
      showIcon
      message={P.parsed}
      description={
        <Descriptions size="small" column={3}>
          <Descriptions.Item label="IP">{parsed.ip}</Descriptions.Item>
          <Descriptions.Item label={P.port}>{parsed.port}</Descriptions.Item>
          <Descriptions.Item label={P.type}>{parsed.type.toUpperCase()}</Descriptions.Item>
          <Descriptions.Item label={P.login}>{parsed.login || '—'}</Descriptions.Item>
          <Descriptions.Item label={P.password}>
            {parsed.password ? (show ? parsed.password : '••••••') : '—'}{' '}
            {parsed.password ? (
              <Button size="small" type="link" onClick={() => setShow(!show)}>
                {show ? P.hide : P.show}
              </Button>
            ) : null}
          </Descriptions.Item>
        </Descriptions>
      }
    />
  );
}

/** Proxy string (parsed as it is typed), provider, bot (left out when the bot is given) and expiry. */
export function ProxyFields({
  form,
  botOptions,
}: {
  form: FormInstance<ProxyForm>;
  /** The bots to pick from; without them the dialog is bound to a known bot. */
  botOptions?: { value: string; label: string }[];
}) {
  const parsed = parseProxy(Form.useWatch('proxy', form) ?? '');
  return (
    <>
      <Form.Item
        name="proxy"
        label={P.proxyString}
        extra={P.proxyStringHelp}
        rules={[
          { required: true, whitespace: true, message: P.proxyStringRequired },
          { validator: (_, v: string) => (!v?.trim() || parseProxy(v) ? Promise.resolve() : Promise.reject(new Error(P.invalid))) },
        ]}
      >
        <Input.TextArea className="bm-mono" rows={2} autoFocus placeholder="ip:port:login:password" />
      </Form.Item>
      {parsed ? (
        <div className="bm-dialog-alert">
          <Parsed parsed={parsed} />
        </div>
      ) : null}
      <Form.Item name="provider" label={P.provider}>
        <Input />
      </Form.Item>
      {botOptions ? (
        <Form.Item name="bot_id" label={P.assignBot} rules={[{ required: true, message: P.assignBotRequired }]}>
          <Select showSearch allowClear optionFilterProp="label" options={botOptions} />
        </Form.Item>
      ) : (
        <Form.Item name="bot_id" hidden>
          <Input />
        </Form.Item>
      )}
      <Form.Item name="expires" label={P.expires} rules={[{ required: true, message: P.expiresRequired }]}>
        <DatePicker format="DD.MM.YYYY" style={{ width: '100%' }} />
      </Form.Item>
    </>
  );
}
