// Schedule editor of the Configure tab (web-ui.md §2.3): a week overview of
// compact timelines with week averages, and a day view whose 24-hour
// timeline takes drags (empty space: new session; bar: move; edges: resize)
// above the day's sessions (enabled, edit and add in a dialog of start/end in
// 5-minute steps, delete) checked for length and overlap, with a switch that
// turns the whole day off; a generator popover with one or two time
// windows (parameters remembered in settings/schedule/last_params) and saved
// templates (settings/schedule/templates/:id); and Save, which stores
// `schedule` and sets its generation lock.

import { useCallback, useMemo, useRef, useState } from 'react';
import { Alert, App, Button, Checkbox, Form, Input, InputNumber, Modal, Popover, Segmented, Space, Switch, Tabs, Tag } from 'antd';
import { DeleteOutlined, EditOutlined, PlusOutlined, SaveOutlined, ThunderboltOutlined } from '@ant-design/icons';
import { botsApi, type Bot } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { settingsApi } from '../../api/settings';
import {
  DEFAULT_SCHEDULE_PARAMS,
  dayStats,
  duration,
  generateSchedule,
  overlaps,
  paramsProblem,
  toHhmm,
  toMinutes,
  type Schedule,
  type ScheduleParams,
  type Session,
} from './generators';

const B = S.bot;
const MIN_SESSION = 15;
const DAY_KEYS = ['0', '1', '2', '3', '4', '5', '6'];

function emptySchedule(): Schedule {
  return {
    version: 1,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    days: Object.fromEntries(DAY_KEYS.map((d) => [d, { enabled: true, sessions: [] }])),
    allowedWindows: [],
  };
}

/** The stored schedule in the current shape; anything else starts empty. */
function scheduleOf(bot: Bot): Schedule {
  const s = bot.schedule as Partial<Schedule> | undefined;
  const base = emptySchedule();
  if (!s || typeof s !== 'object' || !s.days) return base;
  for (const d of DAY_KEYS) {
    const day = s.days[d];
    if (day && Array.isArray(day.sessions)) base.days[d] = { enabled: day.enabled !== false, sessions: day.sessions };
  }
  return { ...base, timezone: s.timezone ?? base.timezone, allowedWindows: s.allowedWindows ?? [] };
}

/** What is wrong with session `s` among the day's `sessions` (itself included or not), or null. */
function problemOf(s: Session, sessions: Session[]): string | null {
  if (duration(s) < MIN_SESSION) return B.sessionTooShort;
  return sessions.some((o) => o.id !== s.id && overlaps(s, o)) ? B.sessionOverlap : null;
}

/** Problems of one day's sessions, by session id. */
function problemsOf(sessions: Session[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sessions) {
    const why = problemOf(s, sessions);
    if (why) out[s.id] = why;
  }
  return out;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * "Add Session" / "Edit Session": start and end in 5-minute steps (a session may cross
 * midnight) and Enabled; too short or overlapping another session of the day is refused
 * next to the End field.
 */
function SessionDialog({
  session,
  others,
  onClose,
  onSave,
}: {
  /** The session to edit; a new one carries a fresh id. */
  session: Session | null;
  others: Session[];
  onClose: () => void;
  onSave: (s: Session) => void;
}) {
  const [form] = Form.useForm<{ start: string; end: string; enabled: boolean }>();
  const isNew = !!session && !others.some((o) => o.id === session.id);
  const time = (field: 'start' | 'end') => ({
    validator: (_: unknown, v: string | undefined) => {
      if (!v) return Promise.reject(new Error(B.sessionRequired));
      if (!HHMM.test(v) || toMinutes(v) % 5 !== 0) return Promise.reject(new Error(B.sessionStep));
      if (field === 'start' || !session) return Promise.resolve();
      const start = form.getFieldValue('start') as string | undefined;
      if (!start || !HHMM.test(start)) return Promise.resolve();
      const why = problemOf({ ...session, start, end: v }, others);
      return why ? Promise.reject(new Error(why)) : Promise.resolve();
    },
  });
  return (
    <Modal
      open={!!session}
      title={isNew ? B.addSession : B.editSession}
      okText={isNew ? B.addSession : S.crud.save}
      cancelText={S.crud.cancel}
      onCancel={onClose}
      onOk={() => form.submit()}
      destroyOnHidden
      width={380}
      data-testid="session-dialog"
    >
      {session && (
        <Form
          form={form}
          layout="vertical"
          initialValues={{ start: session.start, end: session.end, enabled: session.enabled }}
          onFinish={(v) => onSave({ ...session, ...v })}
        >
          <Space.Compact block>
            <Form.Item name="start" label={B.sessionStart} rules={[time('start')]} style={{ flex: 1 }}>
              <Input type="time" step={300} />
            </Form.Item>
            <Form.Item name="end" label={B.sessionEnd} dependencies={['start']} rules={[time('end')]} style={{ flex: 1 }}>
              <Input type="time" step={300} />
            </Form.Item>
          </Space.Compact>
          <Form.Item name="enabled" label={B.sessionEnabled} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Form>
      )}
    </Modal>
  );
}

/** Minutes from local midnight under the pointer, in 5-minute steps. */
function minuteAt(line: HTMLElement, clientX: number): number {
  const r = line.getBoundingClientRect();
  const m = ((clientX - r.left) / Math.max(r.width, 1)) * 1440;
  return Math.min(1440, Math.max(0, Math.round(m / 5) * 5));
}

type DragMode = 'create' | 'move' | 'start' | 'end';

/** The day's sessions after dragging from `origin` to `at` minutes; `s` is the dragged session (none when creating). */
function dragged(sessions: Session[], mode: DragMode, id: string, s: Session | undefined, origin: number, at: number): Session[] {
  const put = (start: number, end: number): Session[] => {
    const next = { ...(s ?? { id, enabled: true, type: 'active' as const, profile: 'default' }), start: toHhmm(start % 1440), end: toHhmm(end % 1440) };
    return s ? sessions.map((x) => (x.id === s.id ? next : x)) : [...sessions, next];
  };
  if (mode === 'create') {
    // A click without a drag creates nothing.
    if (Math.abs(at - origin) < 5) return sessions;
    const a = Math.min(Math.min(origin, at), 1440 - MIN_SESSION);
    return put(a, Math.max(Math.max(origin, at), a + MIN_SESSION));
  }
  if (!s) return sessions;
  const s0 = toMinutes(s.start);
  const e0 = s0 + duration(s);
  if (mode === 'move') {
    const start = (((s0 + at - origin) % 1440) + 1440) % 1440;
    return put(start, start + duration(s));
  }
  if (mode === 'start') return put(Math.min(at, e0 - MIN_SESSION), e0);
  // The end handle of a session past midnight sits on the next day's part.
  const end = e0 > 1440 && at < s0 ? at + 1440 : at;
  return put(s0, Math.max(end, s0 + MIN_SESSION));
}

/** Each session as one or two [start, length] pieces: one past midnight draws as two. */
function pieces(s: Session): [number, number][] {
  const start = toMinutes(s.start);
  const len = duration(s);
  return start + len > 1440 ? [[start, 1440 - start], [0, start + len - 1440]] : [[start, len]];
}

const pct = (m: number) => `${(m / 1440) * 100}%`;

/** Shading outside the allowed windows and a Start/End tick at each window's edges. */
function WindowMarks({ windows }: { windows: Schedule['allowedWindows'] }) {
  if (!windows.length) return null;
  const spans = windows.map((w) => [toMinutes(w.start), toMinutes(w.end)] as const).sort((a, b) => a[0] - b[0]);
  const outside: [number, number][] = [];
  let t = 0;
  for (const [a, b] of spans) {
    if (a > t) outside.push([t, a]);
    t = Math.max(t, b);
  }
  if (t < 1440) outside.push([t, 1440]);
  return (
    <>
      {outside.map(([a, b]) => (
        <span key={`o${a}`} className="bm-sched-shade" style={{ left: pct(a), width: pct(b - a) }} />
      ))}
      {spans.flatMap(([a, b]) => [
        <span key={`s${a}`} className="bm-sched-mark is-start" style={{ left: pct(a) }} />,
        <span key={`e${b}`} className="bm-sched-mark is-end" style={{ left: pct(b) }} />,
      ])}
    </>
  );
}

function Timeline({
  sessions,
  windows,
  onClick,
  selected,
  off,
  label,
}: {
  sessions: Session[];
  windows: Schedule['allowedWindows'];
  onClick: () => void;
  selected: boolean;
  /** The whole day is switched off. */
  off: boolean;
  label: string;
}) {
  const problems = problemsOf(sessions);
  return (
    <div className={'bm-sched-line' + (selected ? ' is-selected' : '') + (off ? ' is-dayoff' : '')} onClick={onClick} role="button" aria-label={label}>
      <WindowMarks windows={windows} />
      {sessions.flatMap((s) =>
        pieces(s).map(([a, l], i) => (
          <span
            key={`${s.id}-${i}`}
            className={'bm-sched-bar' + (s.enabled ? '' : ' is-off') + (problems[s.id] ? ' is-bad' : '')}
            style={{ left: pct(a), width: pct(l) }}
            title={`${s.start} - ${s.end}`}
          />
        )),
      )}
    </div>
  );
}

/** The selected day's 24-hour timeline; drags change the sessions through `onChange`. */
function DayTimeline({
  sessions,
  windows,
  disabled,
  onChange,
}: {
  sessions: Session[];
  windows: Schedule['allowedWindows'];
  disabled: boolean;
  onChange: (list: Session[]) => void;
}) {
  const line = useRef<HTMLDivElement>(null);
  // The sessions as drawn while a drag is under way; committed on release.
  const [draft, setDraft] = useState<Session[] | null>(null);
  const shown = draft ?? sessions;
  const problems = problemsOf(shown);

  const begin = (e: React.PointerEvent, mode: DragMode, s?: Session) => {
    const el = line.current;
    if (disabled || e.button !== 0 || !el) return;
    e.preventDefault();
    e.stopPropagation();
    const origin = minuteAt(el, e.clientX);
    const id = `s${Date.now()}`;
    const at = (ev: PointerEvent) => dragged(sessions, mode, id, s, origin, minuteAt(el, ev.clientX));
    const move = (ev: PointerEvent) => setDraft(at(ev));
    const up = (ev: PointerEvent) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      setDraft(null);
      const next = at(ev);
      if (next !== sessions) onChange(next);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  return (
    <div className="bm-sched-daywrap">
      <div
        ref={line}
        className={'bm-sched-line bm-sched-dayline' + (disabled ? ' is-locked' : '')}
        onPointerDown={(e) => begin(e, 'create')}
        data-testid="schedule-day-timeline"
        aria-label={B.dayTimeline}
      >
        <WindowMarks windows={windows} />
        {shown.flatMap((s) =>
          pieces(s).map(([a, l], i) => (
            <span
              key={`${s.id}-${i}`}
              className={'bm-sched-bar' + (s.enabled ? '' : ' is-off') + (problems[s.id] ? ' is-bad' : '')}
              style={{ left: pct(a), width: pct(l) }}
              title={`${s.start} - ${s.end} (${B.minutes(duration(s))})`}
              onPointerDown={(e) => begin(e, 'move', s)}
            >
              {/* The start handle sits on the first piece, the end handle on the last. */}
              {i === 0 && <i className="bm-sched-handle is-start" onPointerDown={(e) => begin(e, 'start', s)} />}
              {i === pieces(s).length - 1 && <i className="bm-sched-handle is-end" onPointerDown={(e) => begin(e, 'end', s)} />}
            </span>
          )),
        )}
      </div>
      <div className="bm-sched-hours">
        {[0, 3, 6, 9, 12, 15, 18, 21, 24].map((h) => (
          <span key={h} style={{ left: pct(h * 60) }}>
            {String(h).padStart(2, '0')}
          </span>
        ))}
      </div>
    </div>
  );
}

function Stats({ items }: { items: [string, string][] }) {
  return (
    <div className="bm-sched-stats">
      {items.map(([label, value]) => (
        <div key={label}>
          <span className="bm-muted">{label}</span>
          <strong>{value}</strong>
        </div>
      ))}
    </div>
  );
}

interface ScheduleTemplate {
  id: string;
  name: string;
  params: ScheduleParams;
}

const TEMPLATES = 'schedule/templates';

async function loadTemplates(): Promise<ScheduleTemplate[]> {
  const doc = await settingsApi.get<Record<string, { name?: unknown; params?: ScheduleParams } | null>>(TEMPLATES);
  // Deleting writes null, which removes the entry; nulls stored by older servers are skipped.
  return Object.entries(doc ?? {}).flatMap(([id, t]) =>
    t && typeof t.name === 'string' && t.params ? [{ id, name: t.name, params: { ...DEFAULT_SCHEDULE_PARAMS, ...t.params } }] : [],
  );
}

const problemText = (p: ReturnType<typeof paramsProblem>) =>
  p === 'end' ? B.genEndBeforeStart : p === 'overlap' ? B.genWindowsOverlap : p === 'target' ? B.genTargetTooLong : null;

function Generator({ onGenerate }: { onGenerate: (p: ScheduleParams) => void }) {
  const { message } = App.useApp();
  const load = useCallback(() => settingsApi.get<ScheduleParams>('schedule/last_params'), []);
  const last = usePolling(load, 600_000);
  const templates = usePolling(loadTemplates, 600_000);
  const [form] = Form.useForm<ScheduleParams>();
  const second = Form.useWatch('useSecondWindow', form);
  const [problem, setProblem] = useState<string | null>(null);
  const [tab, setTab] = useState('generator');
  const [name, setName] = useState('');
  if (!last.data && last.loading) return null;

  const run = (p: ScheduleParams) => {
    const why = problemText(paramsProblem(p));
    setProblem(why);
    if (!why) onGenerate(p);
  };
  const saveTemplate = async () => {
    if (!name.trim()) return void message.warning(B.nameTemplateFirst);
    try {
      const params = { ...DEFAULT_SCHEDULE_PARAMS, ...form.getFieldsValue(true) };
      await settingsApi.put(`${TEMPLATES}/t${Date.now().toString(36)}`, { name: name.trim(), params, created_at: Date.now() });
      message.success(B.templateSaved);
      setName('');
      templates.refresh();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };
  const deleteTemplate = (id: string) =>
    settingsApi.clear(`${TEMPLATES}/${id}`).then(
      () => {
        message.success(B.templateDeleted);
        templates.refresh();
      },
      (e: unknown) => message.error(errorMessage(e)),
    );
  const list = templates.data ?? [];

  const generator = (
    <Form<ScheduleParams>
      form={form}
      layout="vertical"
      size="small"
      initialValues={{ ...DEFAULT_SCHEDULE_PARAMS, ...(last.data ?? {}) }}
      onValuesChange={(_, all) => setProblem(problemText(paramsProblem(all)))}
      onFinish={run}
    >
      <Space.Compact block>
        <Form.Item name="startTime" label={B.genStart} style={{ flex: 1 }}>
          <Input type="time" step={300} />
        </Form.Item>
        <Form.Item name="endTime" label={B.genEnd} style={{ flex: 1 }}>
          <Input type="time" step={300} />
        </Form.Item>
      </Space.Compact>
      <Form.Item name="useSecondWindow" valuePropName="checked" className="bm-sched-second">
        <Checkbox>{B.genSecondWindow}</Checkbox>
      </Form.Item>
      {second && (
        <Space.Compact block>
          <Form.Item name="secondStartTime" label={B.genStart} style={{ flex: 1 }}>
            <Input type="time" step={300} aria-label={`${B.genSecondWindow} ${B.genStart}`} />
          </Form.Item>
          <Form.Item name="secondEndTime" label={B.genEnd} style={{ flex: 1 }}>
            <Input type="time" step={300} aria-label={`${B.genSecondWindow} ${B.genEnd}`} />
          </Form.Item>
        </Space.Compact>
      )}
      <Form.Item name="targetActiveMinutes" label={B.genTarget}>
        <InputNumber min={30} max={1380} step={15} style={{ width: '100%' }} />
      </Form.Item>
      <Space.Compact block>
        <Form.Item name="minSessionMinutes" label={B.genMinSession} style={{ flex: 1 }}>
          <InputNumber min={15} max={240} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="minBreakMinutes" label={B.genMinBreak} style={{ flex: 1 }}>
          <InputNumber min={5} max={120} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="randomOffsetMinutes" label={B.genRandom} style={{ flex: 1 }}>
          <InputNumber min={0} max={60} style={{ width: '100%' }} />
        </Form.Item>
      </Space.Compact>
      {problem && <Alert type="error" showIcon message={problem} className="bm-dialog-alert" />}
      <Space.Compact block className="bm-sched-tplsave">
        <Input value={name} onChange={(e) => setName(e.target.value)} placeholder={B.templateName} aria-label={B.templateName} maxLength={60} />
        <Button icon={<SaveOutlined />} onClick={() => void saveTemplate()}>
          {B.genTemplateSave}
        </Button>
      </Space.Compact>
      <Space.Compact block>
        <Button onClick={() => form.setFieldsValue(DEFAULT_SCHEDULE_PARAMS)} style={{ flex: 1 }}>
          {B.reset}
        </Button>
        <Button type="primary" htmlType="submit" icon={<ThunderboltOutlined />} style={{ flex: 2 }}>
          {B.generate}
        </Button>
      </Space.Compact>
    </Form>
  );

  const saved = list.length ? (
    <ul className="bm-sched-templates">
      {list.map((t) => (
        <li key={t.id} data-testid="schedule-template">
          <span>{t.name}</span>
          <Button size="small" type="primary" onClick={() => run(t.params)}>
            {B.genTemplateApply}
          </Button>
          <Button
            size="small"
            onClick={() => {
              form.setFieldsValue(t.params);
              setProblem(problemText(paramsProblem(t.params)));
              setTab('generator');
            }}
          >
            {B.genTemplateLoad}
          </Button>
          <Button size="small" danger icon={<DeleteOutlined />} aria-label={`${S.crud.delete} ${t.name}`} onClick={() => void deleteTemplate(t.id)} />
        </li>
      ))}
    </ul>
  ) : (
    <div className="bm-muted">{B.genNoTemplates}</div>
  );

  return (
    <Tabs
      size="small"
      activeKey={tab}
      onChange={setTab}
      data-testid="schedule-generator"
      style={{ width: 340 }}
      items={[
        // forceRender keeps the form mounted, so Load works from the other tab.
        { key: 'generator', label: B.genTabGenerator, children: generator, forceRender: true },
        { key: 'templates', label: B.genTabTemplates(list.length), children: saved },
      ]}
    />
  );
}

const hm = (m: number) => B.minutes(Math.round(m));

export default function ScheduleEditor({ bot, locked, onSaved }: { bot: Bot; locked: boolean; onSaved: () => void }) {
  const { message } = App.useApp();
  const [schedule, setSchedule] = useState<Schedule>(() => scheduleOf(bot));
  const [day, setDay] = useState('0');
  const [view, setView] = useState<'week' | 'day'>('week');
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [genOpen, setGenOpen] = useState(false);
  const [editing, setEditing] = useState<Session | null>(null);
  const sessions = schedule.days[day]?.sessions ?? [];
  const dayOn = schedule.days[day]?.enabled !== false;
  const problems = useMemo(() => problemsOf(sessions), [sessions]);
  // Overlaps (say after a drag) and too short sessions block Save until fixed.
  const badDays = DAY_KEYS.filter((d) => Object.keys(problemsOf(schedule.days[d].sessions)).length > 0);
  const week = useMemo(() => {
    // A day switched off runs nothing.
    const all = DAY_KEYS.map((d) => dayStats(schedule.days[d].enabled === false ? [] : schedule.days[d].sessions));
    const avg = (f: (x: (typeof all)[number]) => number) => all.reduce((n, x) => n + f(x), 0) / all.length;
    return { active: avg((x) => x.active), breaks: avg((x) => x.breaks), count: avg((x) => x.count), percent: avg((x) => x.percent) };
  }, [schedule]);
  const today = dayStats(dayOn ? sessions : []);

  const setSessions = (d: string, list: Session[]) => {
    setSchedule((s) => ({ ...s, days: { ...s.days, [d]: { ...s.days[d], sessions: list } } }));
    setDirty(true);
  };
  const edit = (id: string, change: Partial<Session>) => setSessions(day, sessions.map((s) => (s.id === id ? { ...s, ...change } : s)));
  const setDayOn = (enabled: boolean) => {
    setSchedule((s) => ({ ...s, days: { ...s.days, [day]: { ...s.days[day], enabled } } }));
    setDirty(true);
  };
  const saveSession = (next: Session) => {
    setSessions(day, sessions.some((s) => s.id === next.id) ? sessions.map((s) => (s.id === next.id ? next : s)) : [...sessions, next]);
    setEditing(null);
  };

  const generate = (p: ScheduleParams) => {
    setSchedule(generateSchedule(p));
    setDirty(true);
    setGenOpen(false);
    void settingsApi.put('schedule/last_params', p).catch((e: unknown) => message.error(errorMessage(e)));
  };

  const save = async () => {
    setBusy(true);
    try {
      await botsApi.patch(bot.id, {
        schedule: { ...schedule, updated_at: Date.now() },
        generation_locks: { ...(bot.generation_locks as Record<string, boolean> | undefined), schedule: true },
      });
      message.success(B.scheduleSaved);
      setDirty(false);
      onSaved();
    } catch (e) {
      message.error(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="bm-sched" data-testid="schedule-editor">
      {dirty && <Alert type="warning" showIcon closable message={B.unsaved} className="bm-dialog-alert" />}
      <Space wrap className="bm-sched-actions">
        <Segmented
          value={view}
          onChange={(v) => setView(v as 'week' | 'day')}
          options={[
            { value: 'week', label: B.weekOverview },
            { value: 'day', label: B.dayView },
          ]}
        />
        <Popover open={genOpen && !locked} onOpenChange={setGenOpen} trigger="click" content={<Generator onGenerate={generate} />} title={B.genTitle}>
          <Button icon={<ThunderboltOutlined />} disabled={locked}>
            {B.generate}
          </Button>
        </Popover>
        <Button
          disabled={!dirty}
          onClick={() => {
            setSchedule(scheduleOf(bot));
            setDirty(false);
          }}
        >
          {B.reset}
        </Button>
        <Button type="primary" onClick={() => void save()} loading={busy} disabled={locked || !dirty || badDays.length > 0}>
          {B.saveChanges}
        </Button>
      </Space>
      {badDays.length > 0 && (
        <Alert
          type="error"
          showIcon
          className="bm-dialog-alert"
          data-testid="schedule-problems"
          message={B.scheduleProblems(badDays.map((d) => B.weekdays[Number(d)]))}
        />
      )}
      <div className="bm-sched-weekpanel" data-testid="schedule-week-stats">
        <strong>{B.weekTitle}</strong>
        <Stats
          items={[
            [B.avgActive, hm(week.active)],
            [B.avgBreak, hm(week.breaks)],
            [B.avgSessions, week.count.toFixed(1)],
            [B.avgDayPercent, `${week.percent.toFixed(1)}%`],
          ]}
        />
      </div>
      {view === 'week' ? (
        <>
          <div className="bm-sched-week">
            {DAY_KEYS.map((d) => (
              <div key={d} className="bm-sched-row">
                <span className="bm-sched-day">
                  {B.weekdays[Number(d)]}
                  {schedule.days[d].enabled === false && <Tag className="bm-sched-offtag">{B.dayOff}</Tag>}
                </span>
                <Timeline
                  sessions={schedule.days[d].sessions}
                  windows={schedule.allowedWindows}
                  label={B.weekdays[Number(d)]}
                  selected={d === day}
                  off={schedule.days[d].enabled === false}
                  onClick={() => {
                    setDay(d);
                    setView('day');
                  }}
                />
              </div>
            ))}
          </div>
          <div className="bm-sched-legend">
            <span>
              <i className="bm-sched-bar" />
              {B.legendActive}
            </span>
            <span>
              <i className="bm-sched-bar is-bad" />
              {B.legendOverlap}
            </span>
            <span>
              <i className="bm-sched-mark is-start" />
              {B.legendStart}
            </span>
            <span>
              <i className="bm-sched-mark is-end" />
              {B.legendEnd}
            </span>
          </div>
        </>
      ) : (
        <>
          <Tabs
            size="small"
            activeKey={day}
            onChange={setDay}
            items={DAY_KEYS.map((d) => ({ key: d, label: B.weekdays[Number(d)].slice(0, 3) }))}
          />
          <DayTimeline sessions={sessions} windows={schedule.allowedWindows} disabled={locked} onChange={(list) => setSessions(day, list)} />
          <Stats
            items={[
              [B.statActive, hm(today.active)],
              [B.statBreak, hm(today.breaks)],
              [B.statSessions, String(today.count)],
              [B.statOfDay, `${today.percent.toFixed(1)}%`],
            ]}
          />
          <div className="bm-sched-title">
            <h4>{B.sessionsOf(B.weekdays[Number(day)])}</h4>
            <Switch size="small" checked={dayOn} disabled={locked} aria-label={B.dayEnabled(B.weekdays[Number(day)])} onChange={setDayOn} />
            <span className={dayOn ? 'bm-muted' : 'bm-tone-text bm-tone-warning'}>{dayOn ? B.dayOnText : B.dayOffText}</span>
          </div>
          {sessions.length === 0 && <div className="bm-muted">{B.noSessions}</div>}
          {sessions.map((s) => (
            <div key={s.id} className={'bm-sched-session' + (dayOn ? '' : ' is-dayoff')} data-testid="schedule-session">
              <span className="bm-mono" data-testid="session-span">{`${s.start} - ${s.end}`}</span>
              <span className="bm-muted">({B.minutes(duration(s))})</span>
              <Switch size="small" checked={s.enabled} disabled={locked} aria-label={B.sessionEnabled} onChange={(enabled) => edit(s.id, { enabled })} />
              <Button size="small" type="text" icon={<EditOutlined />} disabled={locked} aria-label={S.crud.edit} onClick={() => setEditing(s)} />
              <Button size="small" type="text" danger icon={<DeleteOutlined />} disabled={locked} aria-label={S.crud.delete} onClick={() => setSessions(day, sessions.filter((x) => x.id !== s.id))} />
              {problems[s.id] && <span className="bm-tone-text bm-tone-danger">{problems[s.id]}</span>}
            </div>
          ))}
          <Button
            size="small"
            icon={<PlusOutlined />}
            disabled={locked}
            onClick={() => {
              const last = sessions[sessions.length - 1];
              const start = last ? (toMinutes(last.end) + 30) % 1440 : 9 * 60;
              setEditing({ id: `s${Date.now()}`, start: toHhmm(start), end: toHhmm((start + 60) % 1440), enabled: true, type: 'active', profile: 'default' });
            }}
          >
            {B.addSession}
          </Button>
          {/* Keyed by session: each opening starts a fresh form. */}
          <SessionDialog key={editing?.id ?? 'none'} session={editing} others={sessions} onClose={() => setEditing(null)} onSave={saveSession} />
        </>
      )}
    </div>
  );
}
