// Configure (web-ui.md §2.3): Person, Account, Character and Schedule as an
// accordion (the open panel is `?subtab`); each form saves its sub-object
// with PATCH, and a server validation error lands on its field. Generators
// fill a form; saving sets the section's generation lock, which keeps it
// read-only until "Unlock".

import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Alert, App, AutoComplete, Button, Checkbox, Collapse, Form, Input, InputNumber, Select, Space, type FormInstance } from 'antd';
import { CheckCircleFilled, ExclamationCircleFilled, LockOutlined, ThunderboltOutlined } from '@ant-design/icons';
import { botsApi, type Bot, type LockKey } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { applyServerErrors } from '../../components/crud';
import { S } from '../../strings';
import { usePolling } from '../../hooks';
import { DEFAULT_GEN, accountPresetsApi, loadAccountPresets, readBackup, writeBackup, type AccountGenSettings } from './accountPresets';
import {
  COUNTRIES,
  EMAIL_DOMAINS,
  generateCharacterName,
  generateEmail,
  generatePassword,
  generatePerson,
  type Country,
  type PasswordOptions,
} from './generators';
import ScheduleEditor from './ScheduleEditor';
import { loadReference } from './characterReference';
import './bot.css';

const B = S.bot;
/** The presets select's entry for the last used settings. */
const LAST_USED = '__last';
/** The e-mail domain select's "Custom..." entry. */
const CUSTOM = '__custom';
const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

const pad2 = (n: number) => String(n).padStart(2, '0');
/** Now as the registration date's `YYYY-MM-DD HH:mm`. */
function nowText(): string {
  const d = new Date();
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** The registration date box with "Set Current Date/Time" (a form control: value/onChange from its Form.Item). */
function RegisteredInput({ value, onChange, id, disabled }: { value?: string | number; onChange?: (v: string) => void; id?: string; disabled?: boolean }) {
  return (
    <Space.Compact block>
      <Input id={id} value={value} disabled={disabled} placeholder="YYYY-MM-DD HH:mm" onChange={(e) => onChange?.(e.target.value)} />
      <Button disabled={disabled} onClick={() => onChange?.(nowText())}>
        {B.setNow}
      </Button>
    </Space.Compact>
  );
}
const PERSON_FIELDS = ['first_name', 'last_name', 'birth_date', 'country', 'city', 'zip', 'address'] as const;

export const personComplete = (b: Bot) => PERSON_FIELDS.every((k) => !!b.person?.[k]);
export const accountComplete = (b: Bot) => !!b.account?.email && !!b.account?.password;
const characterComplete = (b: Bot) =>
  (['name', 'server', 'faction', 'race', 'class'] as const).every((k) => !!b.character?.[k]);

interface ScheduleDay {
  enabled?: boolean;
  sessions?: { enabled?: boolean }[];
}

/** Days that run sessions, and enabled vs all sessions, of the stored schedule. */
export function scheduleSummary(b: Bot): { days: number; sessions: number; active: number } {
  const days = (b.schedule as { days?: Record<string, ScheduleDay> } | undefined)?.days ?? {};
  let d = 0;
  let sessions = 0;
  let active = 0;
  for (const day of Object.values(days)) {
    const list = Array.isArray(day?.sessions) ? day.sessions : [];
    // A day switched off runs nothing, so it is not configured.
    if (list.length && day.enabled !== false) d++;
    sessions += list.length;
    active += list.filter((s) => s.enabled !== false && day.enabled !== false).length;
  }
  return { days: d, sessions, active };
}

/** One panel's form; Save sends PATCH with `toBody(values)`. */
const isLocked = (bot: Bot, locks: LockKey[]) => locks.some((k) => bot.generation_locks?.[k]);

/** The bot's locks with `locks` set to `on`, for a PATCH (nested, not slash keys). */
const withLocks = (bot: Bot, locks: LockKey[], on: boolean) => ({
  ...bot.generation_locks,
  ...Object.fromEntries(locks.map((k) => [k, on])),
});

function LockBanner({ bot, what, locks, onSaved, text }: { bot: Bot; what: string; locks: LockKey[]; onSaved: () => void; text?: string }) {
  const { message } = App.useApp();
  return (
    <Alert
      className="bm-dialog-alert"
      type="info"
      showIcon
      icon={<LockOutlined />}
      message={text ?? B.locked(what)}
      description={B.lockTip}
      action={
        <Button
          size="small"
          onClick={() =>
            botsApi.patch(bot.id, { generation_locks: withLocks(bot, locks, false) }).then(
              () => {
                message.success(B.unlocked(what));
                onSaved();
              },
              (e: unknown) => message.error(errorMessage(e)),
            )
          }
        >
          {B.unlock}
        </Button>
      }
    />
  );
}

/** One panel's form; Save sends PATCH with `toBody(values)` and sets `locks`. */
function SectionForm<V extends object>({
  bot,
  what,
  initial,
  toBody,
  onSaved,
  testId,
  locks = [],
  tools,
  notice,
  savedText,
  lockedText,
  children,
}: {
  bot: Bot;
  what: string;
  initial: V;
  toBody: (v: V) => Partial<Bot>;
  onSaved: () => void;
  testId: string;
  locks?: LockKey[];
  /** Generator controls above the fields. */
  tools?: (form: FormInstance<V>, markDirty: () => void) => ReactNode;
  /** The toast after saving and the lock banner's text, when the spec words them its own way. */
  savedText?: string;
  lockedText?: string;
  /** How complete the stored section is, shown above the fields. */
  notice?: { ok: boolean; text: string; hint?: string };
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
      await botsApi.patch(bot.id, locks.length ? { ...toBody(v), generation_locks: withLocks(bot, locks, true) } : toBody(v));
      message.success(savedText ?? B.saved(what));
      setDirty(false);
      onSaved();
    } catch (e) {
      setProblems(applyServerErrors(form, e));
    } finally {
      setBusy(false);
    }
  };

  const locked = isLocked(bot, locks);
  return (
    <Form<V>
      form={form}
      layout="vertical"
      initialValues={initial}
      onFinish={(v) => void save(v)}
      onValuesChange={() => setDirty(true)}
      disabled={busy || locked}
      data-testid={testId}
    >
      {locked && <LockBanner bot={bot} what={what} locks={locks} onSaved={onSaved} text={lockedText} />}
      {tools && !locked && <div className="bm-gen-tools">{tools(form, () => setDirty(true))}</div>}
      {notice && !locked && (
        <Alert className="bm-dialog-alert" type={notice.ok ? 'success' : 'warning'} showIcon message={notice.text} description={notice.hint} data-testid="section-notice" />
      )}
      {problems.length ? <Alert className="bm-dialog-alert" type="error" showIcon message={S.crud.fixFields} description={problems.join('; ')} /> : null}
      <div className="bm-form-grid">{children}</div>
      <Space>
        <Button type="primary" htmlType="submit" loading={busy} disabled={!dirty}>
          {B.saveChanges}
        </Button>
        {/* Back to the stored values (the latest the page has). */}
        <Button
          disabled={!dirty || busy}
          onClick={() => {
            form.resetFields();
            form.setFieldsValue(initial as Parameters<typeof form.setFieldsValue>[0]);
            setDirty(false);
            setProblems([]);
          }}
        >
          {S.crud.cancel}
        </Button>
        {dirty && <span className="bm-tone-text bm-tone-warning">{B.unsavedShort}</span>}
      </Space>
    </Form>
  );
}

const COUNTRY_KEY = 'botmox.personCountry';

function PersonTools({ onGenerate }: { onGenerate: (v: ReturnType<typeof generatePerson>) => void }) {
  const [country, setCountry] = useState<Country>(() => (localStorage.getItem(COUNTRY_KEY) as Country | null) ?? 'Turkey');
  return (
    <Space wrap>
      <span>{B.generateFor}</span>
      <Select<Country>
        value={country}
        style={{ width: 130 }}
        onChange={(c) => {
          setCountry(c);
          localStorage.setItem(COUNTRY_KEY, c);
        }}
        options={COUNTRIES.map((c) => ({ value: c, label: c }))}
      />
      <Button icon={<ThunderboltOutlined />} onClick={() => onGenerate(generatePerson(country))} data-testid="generate-person">
        {B.generateData}
      </Button>
    </Space>
  );
}

type AccountValues = { email: string; password: string; bnet_created_at: string | number };

/**
 * E-mail domain and password options (from a saved template, the last used
 * settings or the defaults), Generate password / e-mail / both after a confirm
 * when values would be replaced, and "Restore Previous" from the browser backup.
 */
function AccountTools({ bot, form, onGenerate }: { bot: Bot; form: FormInstance<AccountValues>; onGenerate: (v: Partial<AccountValues>) => void }) {
  const { message, modal } = App.useApp();
  const [gen, setGen] = useState<AccountGenSettings>(DEFAULT_GEN);
  const [presetId, setPresetId] = useState<string>(LAST_USED);
  const [templateName, setTemplateName] = useState('');
  const [showPresets, setShowPresets] = useState(false);
  // "Custom..." swaps the domain select for a text box; a stored domain off the list opens it.
  const [customDomain, setCustomDomain] = useState(false);
  const [backup, setBackup] = useState(() => readBackup(bot.id));
  const loadPresets = useCallback(() => loadAccountPresets(), []);
  const presets = usePolling(loadPresets, 600_000);
  const { refresh } = presets;

  // Start from the default template, else the last used settings.
  const [started, setStarted] = useState(false);
  useEffect(() => {
    if (started || !presets.data) return;
    setStarted(true);
    const def = presets.data.templates.find((t) => t.id === presets.data?.defaultTemplateId);
    const start = def ?? presets.data.lastSettings;
    if (def) setPresetId(def.id);
    if (start) {
      setGen(start);
      setCustomDomain(!EMAIL_DOMAINS.includes(start.domain));
    }
  }, [presets.data, started]);

  const opts = gen.password;
  const setOpts = (password: PasswordOptions) => setGen({ ...gen, password });
  const fail = (e: unknown) => message.error(errorMessage(e));

  const generate = (what: 'password' | 'email' | 'both') => {
    const out: Partial<AccountValues> = {};
    if (what !== 'email') out.password = generatePassword(opts);
    if (what !== 'password') {
      if (!DOMAIN.test(gen.domain)) return void message.warning(B.customDomainInvalid);
      const email = generateEmail(bot.person ?? {}, gen.domain);
      if (!email) {
        message.warning(B.emailNeedsPerson);
        if (what === 'email') return;
      } else out.email = email;
    }
    const current = form.getFieldsValue(['email', 'password']) as Partial<AccountValues>;
    const apply = () => {
      const b = { email: current.email ?? '', password: current.password ?? '' };
      writeBackup(bot.id, b);
      setBackup(b);
      onGenerate(out);
      void accountPresetsApi.saveLast(gen).catch(fail);
    };
    const replaces = (Object.keys(out) as (keyof AccountValues)[]).some((k) => !!current[k]);
    if (!replaces) return apply();
    modal.confirm({ title: B.confirmGeneration, content: B.confirmGenerationText, okText: B.generate, cancelText: S.crud.cancel, onOk: apply });
  };

  const templates = presets.data?.templates ?? [];
  const defaultId = presets.data?.defaultTemplateId;
  const picked = templates.find((t) => t.id === presetId);
  return (
    <Space direction="vertical" size={6} data-testid="account-tools">
      <Space wrap>
        <span>{B.presets}</span>
        <Button size="small" type="link" aria-expanded={showPresets} onClick={() => setShowPresets(!showPresets)}>
          {showPresets ? B.hide : B.show}
        </Button>
      </Space>
      {showPresets && (
        <Space wrap data-testid="account-presets">
          <Select
            aria-label={B.presets}
            style={{ width: 200 }}
            value={presetId}
            onChange={(id) => {
              setPresetId(id);
              const next = templates.find((x) => x.id === id) ?? presets.data?.lastSettings ?? DEFAULT_GEN;
              setGen(next);
              setCustomDomain(!EMAIL_DOMAINS.includes(next.domain));
            }}
            options={[
              { value: LAST_USED, label: B.presetLast },
              ...templates.map((t) => ({ value: t.id, label: t.id === defaultId ? `${t.name} ${B.presetDefault}` : t.name })),
            ]}
          />
          <Button size="small" disabled={!picked || picked.id === defaultId} onClick={() => picked && accountPresetsApi.setDefault(picked.id).then(refresh, fail)}>
            {B.setDefault}
          </Button>
          <Button
            size="small"
            danger
            disabled={!picked}
            onClick={() =>
              picked &&
              accountPresetsApi.deleteTemplate(picked.id).then(() => {
                setPresetId(LAST_USED);
                message.success(B.templateDeleted);
                refresh();
              }, fail)
            }
          >
            {S.crud.delete}
          </Button>
          <Space.Compact>
            <Input size="small" placeholder={B.templateName} aria-label={B.templateName} value={templateName} maxLength={60} onChange={(e) => setTemplateName(e.target.value)} />
            <Button
              size="small"
              onClick={() => {
                const name = templateName.trim();
                if (!name) return void message.warning(B.nameTemplateFirst);
                accountPresetsApi.saveTemplate(name, gen).then((id) => {
                  setTemplateName('');
                  setPresetId(id);
                  message.success(B.templateSaved);
                  refresh();
                }, fail);
              }}
            >
              {B.saveTemplate}
            </Button>
          </Space.Compact>
        </Space>
      )}
      <Space wrap>
        <span>{B.emailDomain}</span>
        {customDomain ? (
          <Space.Compact>
            <Input
              size="small"
              style={{ width: 170 }}
              aria-label={B.customDomain}
              placeholder="example.com"
              value={gen.domain}
              status={DOMAIN.test(gen.domain) ? undefined : 'error'}
              onChange={(e) => setGen({ ...gen, domain: e.target.value.trim().toLowerCase() })}
            />
            <Button
              size="small"
              onClick={() => {
                setCustomDomain(false);
                setGen({ ...gen, domain: EMAIL_DOMAINS[0] });
              }}
            >
              {B.back}
            </Button>
          </Space.Compact>
        ) : (
          <Select
            value={gen.domain}
            style={{ width: 150 }}
            aria-label={B.emailDomain}
            onChange={(domain) => {
              if (domain !== CUSTOM) return setGen({ ...gen, domain });
              setCustomDomain(true);
              setGen({ ...gen, domain: '' });
            }}
            options={[...EMAIL_DOMAINS.map((d) => ({ value: d, label: d })), { value: CUSTOM, label: B.customDomainOption }]}
          />
        )}
        <span>{B.passwordLength}</span>
        <InputNumber min={8} max={32} value={opts.length} aria-label={B.passwordLength} onChange={(length) => setOpts({ ...opts, length: length ?? 12 })} style={{ width: 70 }} />
        {(['upper', 'lower', 'digits', 'symbols'] as const).map((k) => (
          <Checkbox key={k} checked={opts[k]} onChange={(e) => setOpts({ ...opts, [k]: e.target.checked })}>
            {{ upper: 'A-Z', lower: 'a-z', digits: '0-9', symbols: '!@#' }[k]}
          </Checkbox>
        ))}
      </Space>
      <Space wrap>
        <span>{B.generateWhat}</span>
        <Button size="small" onClick={() => generate('password')} data-testid="generate-password">
          {B.generatePassword}
        </Button>
        <Button size="small" onClick={() => generate('email')}>
          {B.generateEmail}
        </Button>
        <Button size="small" onClick={() => generate('both')}>
          {B.generateBoth}
        </Button>
        <Button
          size="small"
          disabled={!backup}
          onClick={() => {
            if (!backup) return;
            onGenerate(backup);
            message.success(B.restored);
          }}
        >
          {B.restorePrevious}
        </Button>
      </Space>
    </Space>
  );
}

/**
 * Name, level (reported by the game, read-only), server, and faction → race → class as
 * cascading selects from the project's reference data: changing a parent clears its
 * children. All but the level are required.
 */
function CharacterFields({ projectId, level }: { projectId?: string; level?: number }) {
  const form = Form.useFormInstance();
  const load = useCallback(() => loadReference(projectId), [projectId]);
  const ref = usePolling(load, 600_000).data;
  const faction = Form.useWatch('faction', form) as string | undefined;
  const race = Form.useWatch('race', form) as string | undefined;
  const required = (label: string) => [{ required: true, message: B.required(label) }];
  const races = (ref?.races ?? []).filter((r) => r.faction === faction);
  const classes = (ref?.classes ?? []).filter((k) => !k.races.length || (race && k.races.includes(race)));
  return (
    <>
      <Form.Item name="name" label={S.project.fieldCharacter} rules={required(S.project.fieldCharacter)}>
        <Input maxLength={24} showCount />
      </Form.Item>
      <Form.Item label={B.level} extra={B.levelAuto}>
        <InputNumber value={level} disabled style={{ width: '100%' }} aria-label={B.level} />
      </Form.Item>
      <Form.Item name="server" label={B.server} rules={required(B.server)}>
        <AutoComplete
          options={(ref?.servers ?? []).map((v) => ({ value: v.name, label: v.region ? `${v.name} (${v.region})` : v.name }))}
          filterOption={(input, o) => String(o?.label ?? '').toLowerCase().includes(input.toLowerCase())}
        />
      </Form.Item>
      <Form.Item name="faction" label={B.faction} rules={required(B.faction)}>
        <Select
          loading={!ref}
          options={(ref?.factions ?? []).map((f) => ({ value: f.id, label: f.name }))}
          onChange={() => form.setFieldsValue({ race: undefined, class: undefined })}
        />
      </Form.Item>
      <Form.Item name="race" label={B.race} rules={required(B.race)}>
        <Select
          disabled={!faction}
          placeholder={faction ? undefined : B.selectFactionFirst}
          options={races.map((r) => ({ value: r.id, label: r.name }))}
          onChange={() => form.setFieldsValue({ class: undefined })}
        />
      </Form.Item>
      <Form.Item name="class" label={B.class} rules={required(B.class)}>
        <Select disabled={!race} placeholder={race ? undefined : B.selectRaceFirst} options={classes.map((k) => ({ value: k.id, label: k.name }))} />
      </Form.Item>
    </>
  );
}

function NameTool({ current, onGenerate }: { current?: string; onGenerate: (name: string) => void }) {
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  return (
    <Button
      icon={<ThunderboltOutlined />}
      loading={busy}
      data-testid="generate-name"
      onClick={() => {
        setBusy(true);
        generateCharacterName(current ? [current] : [])
          .then(
            (n) => {
              if (n) onGenerate(n);
              else message.warning(B.noNames);
            },
            (e: unknown) => {
              message.error(errorMessage(e));
            },
          )
          .finally(() => setBusy(false));
      }}
    >
      {B.generateName}
    </Button>
  );
}

/** A person field's label, with a warning mark while the stored value is empty (hidden from the accessible name). */
const personLabel = (text: string, empty: boolean) => (
  <span>
    {text} {empty && <ExclamationCircleFilled className="bm-warn-icon" aria-hidden />}
  </span>
);

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
              savedText={B.personSaved}
              testId="form-person"
              locks={['person_data']}
              notice={personComplete(bot) ? undefined : { ok: false, text: B.personIncomplete, hint: B.personIncompleteHint }}
              tools={(form, markDirty) => (
                <PersonTools
                  onGenerate={(v) => {
                    form.setFieldsValue(v);
                    markDirty();
                  }}
                />
              )}
              initial={{ ...p }}
              toBody={(v) => ({ person: { ...p, ...v } })}
              onSaved={onSaved}
            >
              <Form.Item name="first_name" label={personLabel(B.firstName, !p.first_name)}>
                <Input />
              </Form.Item>
              <Form.Item name="last_name" label={personLabel(B.lastName, !p.last_name)}>
                <Input />
              </Form.Item>
              <Form.Item name="birth_date" label={personLabel(B.birth, !p.birth_date)} extra="DD-MM-YYYY">
                <Input placeholder="DD-MM-YYYY" />
              </Form.Item>
              <Form.Item name="country" label={personLabel(B.country, !p.country)}>
                <Input />
              </Form.Item>
              <Form.Item name="city" label={personLabel(B.city, !p.city)}>
                <Input />
              </Form.Item>
              <Form.Item name="zip" label={personLabel(B.zip, !p.zip)}>
                <Input />
              </Form.Item>
              <Form.Item name="address" label={personLabel(B.address, !p.address)}>
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
              savedText={B.accountSaved}
              lockedText={B.accountLocked}
              testId="form-account"
              locks={['account_email', 'account_password']}
              tools={(form, markDirty) => (
                <AccountTools
                  bot={bot}
                  form={form}
                  onGenerate={(v) => {
                    form.setFieldsValue(v);
                    markDirty();
                  }}
                />
              )}
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
                <RegisteredInput />
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
              locks={['character_name']}
              notice={
                characterComplete(bot)
                  ? { ok: true, text: B.characterReady }
                  : { ok: false, text: B.characterIncomplete, hint: B.characterIncompleteHint }
              }
              tools={(form, markDirty) => (
                <NameTool
                  current={c.name}
                  onGenerate={(name) => {
                    form.setFieldsValue({ name });
                    markDirty();
                  }}
                />
              )}
              initial={{ name: c.name ?? '', server: c.server ?? '', faction: c.faction, race: c.race || undefined, class: c.class || undefined }}
              toBody={(v) => ({ character: { ...c, ...v, updated_at: Date.now() } })}
              onSaved={onSaved}
            >
              <CharacterFields projectId={bot.project_id} level={c.level} />
            </SectionForm>
          ),
        },
        {
          key: 'schedule',
          label: header(4, B.scheduleTitle, B.scheduleHint, sched.days > 0),
          children: (
            <>
              {isLocked(bot, ['schedule']) && <LockBanner bot={bot} what={B.schedule} locks={['schedule']} onSaved={onSaved} />}
              <div className="bm-muted">
                {sched.days ? `${B.scheduleSessions(sched.active, sched.sessions)} · ${B.scheduleDays(sched.days)}` : B.scheduleNone}
              </div>
              <ScheduleEditor key={`${key}:${bot.generation_locks?.schedule ? 1 : 0}`} bot={bot} locked={isLocked(bot, ['schedule'])} onSaved={onSaved} />
            </>
          ),
        },
      ]}
    />
  );
}
