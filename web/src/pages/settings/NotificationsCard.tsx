// Notification settings (docs/api.md, "Notifications"): the Telegram and webhook channels,
// each with its secret in the vault and a "Send test message" button, and the event
// switches with the daily report time. Every card saves only its own part of
// `PUT /notifications/settings`, which merges field by field.

import { useCallback, useState, type ReactNode } from 'react';
import { Alert, Button, Form, Input, Select, Switch, Tag, type FormInstance, type FormRule as Rule } from 'antd';
import { ApiOutlined, BellOutlined, SendOutlined } from '@ant-design/icons';
import { ApiError, errorMessage } from '../../api/client';
import { S } from '../../strings';
import { isMasked, SECRET_MASK, secretOut } from '../../api/settings';
import DocCard from './DocCard';
import SecretField from './SecretField';
import './notifications.css';
import { EVENT_KEYS, notificationsApi, type Channel, type EventKey, type NotificationSettings } from '../../api/notifications';

const T = S.settingsPage;
const N = S.notify;

/** What the server accepts (`check` in src/notifications/routes.rs), so mistakes show before saving. */
const CHAT_ID = /^(-?\d+|@\w{4,})$/;
const BOT_TOKEN = /^\d+:[\w-]+$/;
const HTTP_URL = /^https?:\/\/\S+$/;
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

const pattern = (re: RegExp, message: string): Rule[] => [{ pattern: re, message }];
/** A secret field holds the mask to keep the stored value, '' to clear it, or the new one. */
const secretPattern = (re: RegExp, message: string): Rule[] => [
  { validator: async (_, v?: string) => (!v || v === SECRET_MASK || re.test(v.trim()) ? undefined : Promise.reject(new Error(message))) },
];

type ChannelForm = Record<string, string | boolean>;

/** What differs between the two channel cards; the fields are named as in the API, so its field errors land on them. */
interface ChannelSpec {
  channel: Channel;
  title: string;
  icon: ReactNode;
  testId: string;
  enabledLabel: string;
  secretKey: 'bot_token' | 'secret';
  secretLabel: string;
  secretHelp?: string;
  secretRules: Rule[];
  textKey: 'chat_id' | 'url';
  textLabel: string;
  textPlaceholder: string;
  textRules: Rule[];
  /** The webhook reads URL first, Telegram token first (as the spec's card). */
  textFirst?: boolean;
  saveLabel: string;
  saved: string;
}

const TELEGRAM: ChannelSpec = {
  channel: 'telegram',
  title: T.telegram,
  icon: <SendOutlined />,
  testId: 'settings-telegram',
  enabledLabel: T.telegramEnabled,
  secretKey: 'bot_token',
  secretLabel: T.botToken,
  secretRules: secretPattern(BOT_TOKEN, N.botTokenRule),
  textKey: 'chat_id',
  textLabel: T.chatId,
  textPlaceholder: T.chatIdPlaceholder,
  textRules: pattern(CHAT_ID, T.chatIdPlaceholder),
  saveLabel: T.saveTelegram,
  saved: N.telegramSaved,
};

const WEBHOOK: ChannelSpec = {
  channel: 'webhook',
  title: N.webhook,
  icon: <ApiOutlined />,
  testId: 'settings-webhook',
  enabledLabel: N.webhookEnabled,
  secretKey: 'secret',
  secretLabel: N.webhookSecret,
  secretHelp: N.webhookSecretHelp,
  secretRules: [],
  textKey: 'url',
  textLabel: N.webhookUrl,
  textPlaceholder: N.webhookUrlPlaceholder,
  textRules: pattern(HTTP_URL, N.webhookUrlRule),
  textFirst: true,
  saveLabel: N.saveWebhook,
  saved: N.webhookSaved,
};

interface TestResult {
  type: 'success' | 'warning' | 'error';
  text: string;
}

/** The server's answer to a test message, in words that say what to do next. */
function testResult(channel: Channel, e: unknown): TestResult {
  if (e instanceof ApiError && e.code === 'NOTIFICATION_CHANNEL_NOT_CONFIGURED') {
    return { type: 'warning', text: N.testNotConfigured[channel] };
  }
  if (e instanceof ApiError && e.code === 'NOTIFICATION_DELIVERY_FAILED') {
    return { type: 'error', text: N.testRefused[channel](e.message) };
  }
  return { type: 'error', text: errorMessage(e) };
}

function TestButton({ channel, onSent }: { channel: Channel; onSent: () => void }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TestResult | undefined>(undefined);
  const send = async () => {
    setBusy(true);
    setResult(undefined);
    try {
      const r = await notificationsApi.test(channel);
      setResult({ type: 'success', text: N.testSent(r.delivery_id) });
    } catch (e) {
      setResult(testResult(channel, e));
    } finally {
      setBusy(false);
      // A refused message has its row in the history too.
      onSent();
    }
  };
  return (
    <Form.Item extra={N.testHelp}>
      <Button icon={<SendOutlined />} loading={busy} onClick={() => void send()}>
        {N.sendTest}
      </Button>
      {result && (
        <Alert
          className="bm-notify-result"
          data-testid="test-result"
          type={result.type}
          showIcon
          closable
          onClose={() => setResult(undefined)}
          message={result.text}
        />
      )}
    </Form.Item>
  );
}

function ChannelState({ spec, view }: { spec: ChannelSpec; view: NotificationSettings | undefined }) {
  if (!view) return null;
  const active = view.active_channels.includes(spec.channel);
  if (active) return <Tag color="green" data-testid="channel-state">{N.active}</Tag>;
  if (view[spec.channel].enabled) return <Alert className="bm-set-alert" type="warning" showIcon message={N.incomplete[spec.channel]} />;
  return <Tag data-testid="channel-state">{N.off}</Tag>;
}

function ChannelCard({ spec, reloadKey, onTested }: { spec: ChannelSpec; reloadKey: number; onTested: () => void }) {
  const [view, setView] = useState<NotificationSettings | undefined>(undefined);
  const isSet = isMasked(view?.[spec.channel][spec.secretKey as keyof NotificationSettings[Channel]]);
  const toForm = useCallback(
    (v: NotificationSettings): ChannelForm => {
      const part = v[spec.channel] as unknown as Record<string, string | boolean>;
      setView(v);
      return { enabled: part.enabled, [spec.secretKey]: isMasked(part[spec.secretKey]) ? SECRET_MASK : '', [spec.textKey]: part[spec.textKey] };
    },
    [spec],
  );
  const load = useCallback(() => notificationsApi.get().then(toForm), [toForm]);
  const save = (f: ChannelForm) =>
    notificationsApi
      .put({
        [spec.channel]: {
          enabled: f.enabled === true,
          [spec.secretKey]: secretOut(f[spec.secretKey] as string | undefined, isSet),
          [spec.textKey]: String(f[spec.textKey] ?? '').trim(),
        },
      })
      .then(toForm);
  const text = (
    <Form.Item name={spec.textKey} label={spec.textLabel} rules={spec.textRules}>
      <Input placeholder={spec.textPlaceholder} />
    </Form.Item>
  );
  return (
    <DocCard<ChannelForm> title={spec.title} icon={spec.icon} load={load} save={save} saveLabel={spec.saveLabel} saved={spec.saved} reloadKey={reloadKey} testId={spec.testId}>
      <div className="bm-set-row">
        <ChannelState spec={spec} view={view} />
      </div>
      <Form.Item name="enabled" label={spec.enabledLabel} valuePropName="checked">
        <Switch />
      </Form.Item>
      {spec.textFirst && text}
      <Form.Item name={spec.secretKey} label={spec.secretLabel} extra={spec.secretHelp} rules={spec.secretRules}>
        <SecretField isSet={isSet} />
      </Form.Item>
      {!spec.textFirst && text}
      <TestButton channel={spec.channel} onSent={onTested} />
    </DocCard>
  );
}

interface ChannelProps {
  reloadKey: number;
  /** A test message was tried: its row is in the delivery history now. */
  onTested: () => void;
}

export const TelegramCard = (p: ChannelProps) => <ChannelCard spec={TELEGRAM} {...p} />;
export const WebhookCard = (p: ChannelProps) => <ChannelCard spec={WEBHOOK} {...p} />;

type EventsForm = Record<EventKey, boolean> & { time: string; utc_offset_minutes: number };

const eventsForm = (v: NotificationSettings): EventsForm => ({ ...v.events, ...v.daily_report });

/** "UTC+05:45" for 345. */
function offsetLabel(minutes: number): string {
  const a = Math.abs(minutes);
  const two = (n: number) => String(n).padStart(2, '0');
  return `UTC${minutes < 0 ? '−' : '+'}${two(Math.floor(a / 60))}:${two(a % 60)}`;
}

// Every quarter hour the server accepts (-12:00 to +14:00): covers all real zones.
const OFFSETS = Array.from({ length: (840 + 720) / 15 + 1 }, (_, i) => -720 + i * 15).map((m) => ({ value: m, label: offsetLabel(m) }));

/** getTimezoneOffset counts minutes behind UTC; the API wants minutes ahead. */
const browserOffset = () => -new Date().getTimezoneOffset();

function ReportTime({ form }: { form: FormInstance<EventsForm> }) {
  const here = browserOffset();
  return (
    <>
      <div className="bm-set-label">{N.dailyReport}</div>
      <div className="bm-set-sliders">
        <Form.Item name="time" label={N.reportTime} rules={[{ required: true, message: N.reportTimeRule }, ...pattern(HH_MM, N.reportTimeRule)]}>
          <Input placeholder="09:00" maxLength={5} />
        </Form.Item>
        <Form.Item
          name="utc_offset_minutes"
          label={N.utcOffset}
          extra={
            <Button type="link" size="small" className="bm-notify-link" onClick={() => form.setFieldValue('utc_offset_minutes', here)}>
              {N.useBrowserOffset(offsetLabel(here))}
            </Button>
          }
        >
          <Select showSearch options={OFFSETS} optionFilterProp="label" />
        </Form.Item>
      </div>
    </>
  );
}

export default function NotificationsCard({ reloadKey }: { reloadKey: number }) {
  const load = useCallback(() => notificationsApi.get().then(eventsForm), []);
  const save = ({ time, utc_offset_minutes, ...events }: EventsForm) =>
    notificationsApi.put({ events, daily_report: { time: time.trim(), utc_offset_minutes } }).then(eventsForm);
  return (
    <DocCard<EventsForm> title={T.notifications} icon={<BellOutlined />} load={load} save={save} saveLabel={T.saveNotifications} saved={T.notificationsSaved} reloadKey={reloadKey} testId="settings-notifications">
      {(form) => (
        <>
          <div className="bm-muted bm-set-help">{T.notificationsHelp}</div>
          <div className="bm-set-switches">
            {EVENT_KEYS.map((k) => (
              <Form.Item key={k} name={k} label={T.events[k]} valuePropName="checked">
                <Switch />
              </Form.Item>
            ))}
          </div>
          <ReportTime form={form} />
        </>
      )}
    </DocCard>
  );
}
