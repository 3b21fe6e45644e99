// Schedule editor of the Configure tab (web-ui.md §2.3): a week overview of
// compact timelines, the selected day's sessions (start/end in 5-minute
// steps, enabled, delete, add) checked for length and overlap, a generator
// popover (its parameters remembered in settings/schedule/last_params), and
// Save, which stores `schedule` and sets its generation lock.

import { useCallback, useMemo, useState } from 'react';
import { Alert, App, Button, Form, Input, InputNumber, Popover, Space, Switch } from 'antd';
import { DeleteOutlined, PlusOutlined, ThunderboltOutlined } from '@ant-design/icons';
import { botsApi, type Bot } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { settingsApi } from '../settings/api';
import {
  DEFAULT_SCHEDULE_PARAMS,
  duration,
  generateSchedule,
  overlaps,
  paramsProblem,
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

/** Problems of one day's sessions, by session id. */
function problemsOf(sessions: Session[]): Record<string, string> {
  const out: Record<string, string> = {};
  sessions.forEach((s, i) => {
    if (duration(s) < MIN_SESSION) out[s.id] = B.sessionTooShort;
    else if (sessions.some((o, j) => j !== i && overlaps(s, o))) out[s.id] = B.sessionOverlap;
  });
  return out;
}

function Timeline({ sessions, onClick, selected }: { sessions: Session[]; onClick?: () => void; selected?: boolean }) {
  return (
    <div className={'bm-sched-line' + (selected ? ' is-selected' : '')} onClick={onClick} role={onClick ? 'button' : undefined}>
      {sessions.flatMap((s) => {
        const start = toMinutes(s.start);
        const len = duration(s);
        // A session past midnight draws as two pieces.
        const parts = start + len > 1440 ? [[start, 1440 - start], [0, start + len - 1440]] : [[start, len]];
        return parts.map(([a, l], i) => (
          <span
            key={`${s.id}-${i}`}
            className={'bm-sched-bar' + (s.enabled ? '' : ' is-off')}
            style={{ left: `${(a / 1440) * 100}%`, width: `${(l / 1440) * 100}%` }}
            title={`${s.start} - ${s.end}`}
          />
        ));
      })}
    </div>
  );
}

function Generator({ onGenerate }: { onGenerate: (p: ScheduleParams) => void }) {
  const load = useCallback(() => settingsApi.get<ScheduleParams>('schedule/last_params'), []);
  const last = usePolling(load, 600_000);
  const [form] = Form.useForm<ScheduleParams>();
  const [problem, setProblem] = useState<string | null>(null);
  if (!last.data && last.loading) return null;
  return (
    <Form<ScheduleParams>
      form={form}
      layout="vertical"
      size="small"
      initialValues={{ ...DEFAULT_SCHEDULE_PARAMS, ...(last.data ?? {}) }}
      onFinish={(v) => {
        const p = paramsProblem(v);
        setProblem(p === 'end' ? B.genEndBeforeStart : p === 'target' ? B.genTargetTooLong : null);
        if (!p) onGenerate(v);
      }}
      data-testid="schedule-generator"
      style={{ width: 320 }}
    >
      <Space.Compact block>
        <Form.Item name="startTime" label={B.genStart} style={{ flex: 1 }}>
          <Input type="time" step={300} />
        </Form.Item>
        <Form.Item name="endTime" label={B.genEnd} style={{ flex: 1 }}>
          <Input type="time" step={300} />
        </Form.Item>
      </Space.Compact>
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
      <Button type="primary" htmlType="submit" block icon={<ThunderboltOutlined />}>
        {B.generate}
      </Button>
    </Form>
  );
}

export default function ScheduleEditor({ bot, locked, onSaved }: { bot: Bot; locked: boolean; onSaved: () => void }) {
  const { message } = App.useApp();
  const [schedule, setSchedule] = useState<Schedule>(() => scheduleOf(bot));
  const [day, setDay] = useState('0');
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [genOpen, setGenOpen] = useState(false);
  const sessions = schedule.days[day]?.sessions ?? [];
  const problems = useMemo(() => problemsOf(sessions), [sessions]);
  const anyProblem = DAY_KEYS.some((d) => Object.keys(problemsOf(schedule.days[d].sessions)).length > 0);

  const setSessions = (d: string, list: Session[]) => {
    setSchedule((s) => ({ ...s, days: { ...s.days, [d]: { ...s.days[d], sessions: list } } }));
    setDirty(true);
  };
  const edit = (id: string, change: Partial<Session>) => setSessions(day, sessions.map((s) => (s.id === id ? { ...s, ...change } : s)));

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
        <Button type="primary" onClick={() => void save()} loading={busy} disabled={locked || !dirty || anyProblem}>
          {B.saveChanges}
        </Button>
      </Space>
      <div className="bm-sched-week">
        {DAY_KEYS.map((d) => (
          <div key={d} className="bm-sched-row">
            <span className="bm-sched-day">{B.weekdays[Number(d)]}</span>
            <Timeline sessions={schedule.days[d].sessions} onClick={() => setDay(d)} selected={d === day} />
          </div>
        ))}
      </div>
      <h4 className="bm-sched-title">{B.sessionsOf(B.weekdays[Number(day)])}</h4>
      {sessions.length === 0 && <div className="bm-muted">{B.noSessions}</div>}
      {sessions.map((s) => (
        <div key={s.id} className="bm-sched-session" data-testid="schedule-session">
          <Input type="time" step={300} value={s.start} disabled={locked} aria-label={B.sessionStart} onChange={(e) => edit(s.id, { start: e.target.value })} style={{ width: 120 }} />
          <span>–</span>
          <Input type="time" step={300} value={s.end} disabled={locked} aria-label={B.sessionEnd} onChange={(e) => edit(s.id, { end: e.target.value })} style={{ width: 120 }} />
          <span className="bm-muted">{B.minutes(duration(s))}</span>
          <Switch size="small" checked={s.enabled} disabled={locked} aria-label={B.sessionEnabled} onChange={(enabled) => edit(s.id, { enabled })} />
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
          const hhmm = (m: number) => `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
          setSessions(day, [...sessions, { id: `s${Date.now()}`, start: hhmm(start), end: hhmm(start + 60), enabled: true, type: 'active', profile: 'default' }]);
        }}
      >
        {B.addSession}
      </Button>
    </div>
  );
}
