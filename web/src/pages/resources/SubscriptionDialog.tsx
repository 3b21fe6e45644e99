// Add/Edit Subscription (web-ui.md §2.6), also opened from the bot page with
// the bot fixed.

import { DatePicker, Form, Input, Select, Switch } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import type { Bot } from '../../api/bots';
import { subscriptionsApi, type Subscription } from '../../api/resources';
import { EntityDialog } from '../../components/crud';
import { S } from '../../strings';
import { botLabel } from '../../models/bots';
import { endOfDay } from '../../models/expiry';

const T = S.subscriptions;
const TYPES = ['wow', 'bot', 'proxy', 'vpn', 'other'];

interface SubscriptionForm {
  bot_id: string;
  type: string;
  expires: Dayjs;
  account_email: string;
  auto_renew: boolean;
  notes: string;
}

/** The form of a subscription; `botId` fixes the bot (opened from the bot page). */
export default function SubscriptionDialog({
  open,
  current,
  botId,
  bots,
  onClose,
  onSaved,
}: {
  open: boolean;
  current?: Subscription;
  botId?: string;
  bots: Map<string, Bot> | undefined;
  onClose: () => void;
  onSaved: () => void;
}) {
  const botOptions = [...(bots?.values() ?? [])]
    .filter((b) => b.status !== 'banned' || b.id === current?.bot_id)
    .map((b) => ({ value: b.id, label: [botLabel(b), b.id, b.account?.email].filter(Boolean).join(' - ') }));
  return (
    <EntityDialog<SubscriptionForm>
      open={open}
      title={current ? T.edit : T.add}
      okText={current ? S.bot.saveChanges : T.add}
      successMessage={current ? T.updated : T.created}
      fieldMap={{ expires_at: 'expires' }}
      initialValues={{
        bot_id: current?.bot_id ?? botId,
        type: current?.type ?? 'wow',
        expires: dayjs(current?.expires_at ?? Date.now() + 30 * 86_400_000),
        account_email: current?.account_email ?? '',
        auto_renew: current?.auto_renew ?? false,
        notes: current?.notes ?? '',
      }}
      onClose={onClose}
      testId="subscription-dialog"
      onSubmit={async (v) => {
        const body: Partial<Subscription> = {
          bot_id: v.bot_id,
          type: v.type,
          expires_at: endOfDay(v.expires.valueOf()),
          account_email: v.account_email?.trim() || undefined,
          auto_renew: v.auto_renew,
          notes: v.notes || undefined,
          project_id: bots?.get(v.bot_id)?.project_id,
        };
        if (current) await subscriptionsApi.patch(current.id, body);
        else await subscriptionsApi.create({ ...body, status: 'active' });
        onSaved();
      }}
    >
      <Form.Item name="bot_id" label={T.bot} rules={[{ required: true, message: T.botRequired }]} hidden={!!botId}>
        <Select showSearch optionFilterProp="label" options={botOptions} autoFocus />
      </Form.Item>
      <Form.Item name="type" label={T.type}>
        <Select options={TYPES.map((t) => ({ value: t, label: t.toUpperCase() }))} />
      </Form.Item>
      <Form.Item
        name="expires"
        label={T.expires}
        rules={[
          { required: true, message: T.expiresRequired },
          {
            validator: (_, d: Dayjs | undefined) =>
              !d || current || !d.isBefore(dayjs(), 'day') ? Promise.resolve() : Promise.reject(new Error(T.noPast)),
          },
        ]}
      >
        <DatePicker format="DD.MM.YYYY" style={{ width: '100%' }} />
      </Form.Item>
      <Form.Item name="account_email" label={T.email}>
        <Input type="email" />
      </Form.Item>
      <Form.Item name="auto_renew" label={T.autoRenew} valuePropName="checked">
        <Switch />
      </Form.Item>
      <Form.Item name="notes" label={T.notes}>
        <Input.TextArea rows={2} />
      </Form.Item>
    </EntityDialog>
  );
}
