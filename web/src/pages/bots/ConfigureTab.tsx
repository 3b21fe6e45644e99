// Configure (web-ui.md §2.3): Person, Account, Character and Schedule as an
// accordion (the open panel is `?subtab`); each form saves its sub-object
// with PATCH, and a server validation error lands on its field.

import { useState, type ReactNode } from 'react';
import { Alert, App, Button, Collapse, Form, Input, InputNumber, Select } from 'antd';
import { CheckCircleFilled, ExclamationCircleFilled } from '@ant-design/icons';
import { botsApi, type Bot } from '../../api/bots';
import { applyServerErrors } from '../../components/crud';
import { S } from '../../strings';

const B = S.bot;
const PERSON_FIELDS = ['first_name', 'last_name', 'birth_date', 'country', 'city', 'zip', 'address'] as const;

export const personComplete = (b: Bot) => PERSON_FIELDS.every((k) => !!b.person?.[k]);
export const accountComplete = (b: Bot) => !!b.account?.email && !!b.account?.password;
const characterComplete = (b: Bot) =>
  (['name', 'server', 'faction', 'race', 'class'] as const).every((k) => !!b.character?.[k]);

interface ScheduleDay {
  enabled?: boolean;
  sessions?: { enabled?: boolean }[];
}

/** Days with sessions, and enabled vs all sessions, of the stored schedule. */
export function scheduleSummary(b: Bot): { days: number; sessions: number; active: number } {
  const days = (b.schedule as { days?: Record<string, ScheduleDay> } | undefined)?.days ?? {};
  let d = 0;
  let sessions = 0;
  let active = 0;
  for (const day of Object.values(days)) {
    const list = Array.isArray(day?.sessions) ? day.sessions : [];
    if (list.length) d++;
    sessions += list.length;
    active += list.filter((s) => s.enabled !== false && day.enabled !== false).length;
  }
  return { days: d, sessions, active };
}

/** One panel's form; Save sends PATCH with `toBody(values)`. */
function SectionForm<V extends object>({
  bot,
  what,
  initial,
  toBody,
  onSaved,
  testId,
  children,
}: {
  bot: Bot;
  what: string;
  initial: V;
  toBody: (v: V) => Partial<Bot>;
  onSaved: () => void;
  testId: string;
  children: ReactNode;
}) {
  const [form] = Form.useForm<V>();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const [problems, setProblems] = useState<string[]>([]);
  const [dirty, setDirty] = useState(false);

  const save = async (v: V) => {
    setBusy(true);
    setProblems([]);
    try {
      await botsApi.patch(bot.id, toBody(v));
      message.success(B.saved(what));
      setDirty(false);
      onSaved();
    } catch (e) {
      setProblems(applyServerErrors(form, e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Form<V>
      form={form}
      layout="vertical"
      initialValues={initial}
      onFinish={(v) => void save(v)}
      onValuesChange={() => setDirty(true)}
      disabled={busy}
      data-testid={testId}
    >
      {problems.length ? <Alert className="bm-dialog-alert" type="error" showIcon message={S.crud.fixFields} description={problems.join('; ')} /> : null}
      <div className="bm-form-grid">{children}</div>
      <Button type="primary" htmlType="submit" loading={busy} disabled={!dirty}>
        {B.saveChanges}
      </Button>
    </Form>
  );
}

const mark = (ok: boolean) =>
  ok ? <CheckCircleFilled className="bm-tone-text bm-tone-success" /> : <ExclamationCircleFilled className="bm-warn-icon" />;

function header(n: number, title: string, hint: string, ok: boolean) {
  return (
    <span className="bm-linked">
      {mark(ok)} <b>{`${n}. ${title}`}</b> <span className="bm-muted">{hint}</span>
    </span>
  );
}

export default function ConfigureTab({
  bot,
  subtab,
  onSubtab,
  onSaved,
}: {
  bot: Bot;
  subtab?: string;
  onSubtab: (s: string | undefined) => void;
  onSaved: () => void;
}) {
  const p = bot.person ?? {};
  const a = bot.account ?? {};
  const c = bot.character ?? {};
  const sched = scheduleSummary(bot);
  // The forms start from the bot as loaded (keyed by id): the 5 s poll must not overwrite typing.
  const key = bot.id;

  return (
    <Collapse
      accordion
      activeKey={subtab ?? 'person'}
      onChange={(k) => onSubtab((Array.isArray(k) ? k[0] : k) || undefined)}
      items={[
        {
          key: 'person',
          label: header(1, B.personTitle, B.personHint, personComplete(bot)),
          children: (
            <SectionForm
              key={key}
              bot={bot}
              what={B.person}
              testId="form-person"
              initial={{ ...p }}
              toBody={(v) => ({ person: { ...p, ...v } })}
              onSaved={onSaved}
            >
              <Form.Item name="first_name" label={B.firstName}>
                <Input />
              </Form.Item>
              <Form.Item name="last_name" label={B.lastName}>
                <Input />
              </Form.Item>
              <Form.Item name="birth_date" label={B.birth} extra="DD-MM-YYYY">
                <Input placeholder="DD-MM-YYYY" />
              </Form.Item>
              <Form.Item name="country" label={B.country}>
                <Input />
              </Form.Item>
              <Form.Item name="city" label={B.city}>
                <Input />
              </Form.Item>
              <Form.Item name="zip" label={B.zip}>
                <Input />
              </Form.Item>
              <Form.Item name="address" label={B.address}>
                <Input placeholder={B.addressPlaceholder} />
              </Form.Item>
            </SectionForm>
          ),
        },
        {
          key: 'account',
          label: header(2, B.accountTitle, B.accountHint, accountComplete(bot)),
          children: (
            <SectionForm
              key={key}
              bot={bot}
              what={B.account}
              testId="form-account"
              initial={{ email: a.email ?? '', password: a.password ?? '', bnet_created_at: a.bnet_created_at ?? '' }}
              toBody={(v) => ({ account: { ...a, ...v } })}
              onSaved={onSaved}
            >
              <Form.Item name="email" label={B.email} rules={[{ type: 'email' }]}>
                <Input />
              </Form.Item>
              <Form.Item name="password" label={B.password}>
                <Input.Password />
              </Form.Item>
              <Form.Item name="bnet_created_at" label={B.registered} extra="YYYY-MM-DD HH:mm">
                <Input />
              </Form.Item>
            </SectionForm>
          ),
        },
        {
          key: 'character',
          label: header(3, B.characterTitle, B.characterHint, characterComplete(bot)),
          children: (
            <SectionForm
              key={key}
              bot={bot}
              what={B.character}
              testId="form-character"
              initial={{ name: c.name ?? '', server: c.server ?? '', faction: c.faction, race: c.race ?? '', class: c.class ?? '' }}
              toBody={(v) => ({ character: { ...c, ...v } })}
              onSaved={onSaved}
            >
              <Form.Item name="name" label={S.project.fieldCharacter}>
                <Input maxLength={24} />
              </Form.Item>
              <Form.Item label={B.level}>
                <InputNumber value={c.level} disabled style={{ width: '100%' }} />
              </Form.Item>
              <Form.Item name="server" label={B.server}>
                <Input />
              </Form.Item>
              <Form.Item name="faction" label={B.faction}>
                <Select
                  allowClear
                  options={[
                    { value: 'alliance', label: S.project.alliance },
                    { value: 'horde', label: S.project.horde },
                  ]}
                />
              </Form.Item>
              <Form.Item name="race" label={B.race}>
                <Input />
              </Form.Item>
              <Form.Item name="class" label={B.class}>
                <Input />
              </Form.Item>
            </SectionForm>
          ),
        },
        {
          key: 'schedule',
          label: header(4, B.scheduleTitle, B.scheduleHint, sched.days > 0),
          children: sched.days ? (
            <div>
              {B.scheduleSessions(sched.active, sched.sessions)} · {B.scheduleDays(sched.days)}
            </div>
          ) : (
            <div className="bm-muted">{B.scheduleNone}</div>
          ),
        },
      ]}
    />
  );
}
