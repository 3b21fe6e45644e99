// Calendar (web-ui.md §2.10): month and week views of all-day events, a side
// panel of missed and upcoming events (or one day's), create/edit/delete.

import { useCallback, useMemo, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { Alert, Button, Card, Empty, Form, Input, Segmented, Select, Spin, Tag, Tooltip } from 'antd';
import {
  CalendarOutlined,
  ClockCircleOutlined,
  DeleteOutlined,
  EditOutlined,
  FileTextOutlined,
  FlagOutlined,
  LeftOutlined,
  PlusOutlined,
  RightOutlined,
} from '@ant-design/icons';
import { errorMessage } from '../../api/client';
import DateField from '../../components/DateField';
import { EntityDialog, useDeleteAction } from '../../components/crud';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { calendarApi, notesApi, type CalendarEvent, type Note } from '../../api/workspace';
import { addDays, dmy, parseYmd, weekStart, ymd } from './dates';
import { readStored, writeStored } from './storage';
import './workspace.css';

const POLL_MS = 6_000;
const TITLE_MAX = 120;
const C = S.calendar;
type View = 'month' | 'week';

interface EventForm {
  title: string;
  date: string;
  linked_note_id?: string;
  description?: string;
}

function shortDay(s: string): string {
  const d = parseYmd(s);
  return d ? `${String(d.getDate()).padStart(2, '0')} ${C.monthsShort[d.getMonth()]}` : s;
}

function EventDialog({
  editing,
  defaultDate,
  onClose,
  onSaved,
}: {
  editing: CalendarEvent | null;
  defaultDate: string;
  onClose: () => void;
  onSaved: () => void;
}) {
  const load = useCallback(() => notesApi.all({ sort: 'updated_at', order: 'desc' }), []);
  const notes = usePolling<Note[]>(load, 60_000);
  return (
    <EntityDialog<EventForm>
      open
      title={editing ? C.editTitle : C.createTitle}
      testId="event-dialog"
      initialValues={
        editing
          ? {
              title: editing.title,
              date: editing.date,
              linked_note_id: editing.linked_note_id ?? undefined,
              description: editing.description ?? '',
            }
          : { date: defaultDate }
      }
      successMessage={editing ? C.updated : C.created}
      onClose={onClose}
      onSubmit={async (v) => {
        const body = {
          title: v.title.trim(),
          date: v.date,
          linked_note_id: v.linked_note_id || null,
          description: v.description ?? '',
        };
        if (editing) await calendarApi.patch(editing.id, body);
        else await calendarApi.create(body);
        onSaved();
      }}
    >
      <Form.Item
        name="title"
        label={C.fieldTitle}
        rules={[
          { required: true, whitespace: true, message: S.ws.titleRequired },
          { max: TITLE_MAX, message: S.ws.titleMax(TITLE_MAX) },
        ]}
      >
        <Input autoFocus maxLength={TITLE_MAX + 20} />
      </Form.Item>
      <Form.Item name="date" label={C.fieldDate} rules={[{ required: true, message: C.dateRequired }]}>
        <DateField />
      </Form.Item>
      <Form.Item name="linked_note_id" label={C.fieldNote}>
        <Select
          allowClear
          showSearch
          placeholder={C.notePlaceholder}
          loading={notes.loading && !notes.data}
          optionFilterProp="label"
          options={(notes.data ?? []).map((n) => ({ value: n.id, label: n.title?.trim() || S.ws.untitled }))}
        />
      </Form.Item>
      <Form.Item name="description" label={C.fieldDescription}>
        <Input.TextArea rows={3} maxLength={2000} />
      </Form.Item>
    </EntityDialog>
  );
}

function DayCell({
  date,
  events,
  inMonth,
  today,
  selected,
  limit,
  onSelect,
}: {
  date: Date;
  events: CalendarEvent[];
  inMonth: boolean;
  today: boolean;
  selected: boolean;
  limit: number;
  onSelect: () => void;
}) {
  return (
    <button
      type="button"
      className={
        'bm-cal-day' + (inMonth ? '' : ' is-other') + (today ? ' is-today' : '') + (selected ? ' is-selected' : '')
      }
      aria-pressed={selected}
      data-date={ymd(date)}
      onClick={onSelect}
    >
      {/* The name is the visible text plus month, year and count for a screen reader. */}
      <span className="bm-cal-day-head">
        <span>
          {date.getDate()}
          <span className="bm-visually-hidden">
            {` ${C.months[date.getMonth()]} ${date.getFullYear()}, ${C.eventsCount(events.length)}`}
          </span>
        </span>
        {events.length > 0 && <span className="bm-cal-count">{events.length}</span>}
      </span>
      {events.slice(0, limit).map((e) => (
        <span key={e.id} className="bm-cal-chip" title={e.title}>
          {e.title || S.ws.untitled}
        </span>
      ))}
      {events.length > limit && <span className="bm-cal-more">{C.more(events.length - limit)}</span>}
      {limit > 2 && events.length === 0 && <span className="bm-cal-none">{C.noEvents}</span>}
    </button>
  );
}

function EventItem({
  ev,
  past,
  onEdit,
  onDelete,
}: {
  ev: CalendarEvent;
  past: boolean;
  onEdit: () => void;
  onDelete: () => void;
}) {
  return (
    <li className="bm-cal-item" data-testid="calendar-event">
      <div className="bm-cal-item-main">
        <div className="bm-cal-item-title">
          {ev.title || S.ws.untitled}
          <Tag color={past ? 'red' : 'blue'}>{shortDay(ev.date)}</Tag>
        </div>
        <div className="bm-cal-item-desc">{ev.description?.trim() || S.ws.noDescription}</div>
      </div>
      <span className="bm-cal-item-actions">
        {ev.linked_note_id && (
          <Tooltip title={C.openNote}>
            <Link to={`/notes?note=${encodeURIComponent(ev.linked_note_id)}`} aria-label={C.openNote}>
              <Button size="small" type="text" icon={<FileTextOutlined />} tabIndex={-1} />
            </Link>
          </Tooltip>
        )}
        <Tooltip title={S.crud.edit}>
          <Button size="small" type="text" aria-label={`${S.crud.edit} ${ev.title}`} icon={<EditOutlined />} onClick={onEdit} />
        </Tooltip>
        <Tooltip title={S.crud.delete}>
          <Button size="small" type="text" danger aria-label={`${S.crud.delete} ${ev.title}`} icon={<DeleteOutlined />} onClick={onDelete} />
        </Tooltip>
      </span>
    </li>
  );
}

export default function CalendarPage() {
  const [view, setView] = useState<View>(() => readStored<View>('botmox.calendar.view', ['month', 'week'], 'month'));
  const [cursor, setCursor] = useState(() => new Date());
  const [selected, setSelected] = useState<string | null>(null);
  const [dialog, setDialog] = useState<{ editing: CalendarEvent | null } | null>(null);

  const load = useCallback(() => calendarApi.all({ sort: 'date', order: 'asc' }), []);
  const events = usePolling(load, POLL_MS);
  const todayStr = ymd(new Date());

  const byDay = useMemo(() => {
    const m = new Map<string, CalendarEvent[]>();
    for (const e of events.data ?? []) {
      const list = m.get(e.date) ?? [];
      list.push(e);
      m.set(e.date, list);
    }
    return m;
  }, [events.data]);

  const remove = useDeleteAction<CalendarEvent>({
    remove: (e) => calendarApi.remove(e.id),
    recreate: (e) => calendarApi.create(e),
    confirm: (e) => ({ title: C.deleteConfirm, content: `${e.title} — ${dmy(e.date)}` }),
    label: (e) => `${C.what} "${e.title}"`,
    onChange: events.refresh,
  });

  const days: Date[] = [];
  let title: string;
  if (view === 'month') {
    const first = new Date(cursor.getFullYear(), cursor.getMonth(), 1);
    const start = weekStart(first);
    for (let i = 0; i < 42; i++) days.push(addDays(start, i));
    title = `${C.months[cursor.getMonth()]} ${cursor.getFullYear()}`;
  } else {
    const start = weekStart(cursor);
    for (let i = 0; i < 7; i++) days.push(addDays(start, i));
    const end = days[6];
    title = `${shortDay(ymd(start))} - ${shortDay(ymd(end))} ${end.getFullYear()}`;
  }
  const step = (dir: number) =>
    setCursor((c) =>
      view === 'month' ? new Date(c.getFullYear(), c.getMonth() + dir, 1) : addDays(c, 7 * dir),
    );

  const all = events.data ?? [];
  const missed = all.filter((e) => e.date < todayStr).reverse();
  const upcoming = all.filter((e) => e.date >= todayStr);
  const dayEvents = selected ? (byDay.get(selected) ?? []) : [];

  const list = (items: CalendarEvent[], empty: string): ReactNode =>
    items.length ? (
      <ul className="bm-cal-list">
        {items.map((e) => (
          <EventItem
            key={e.id}
            ev={e}
            past={e.date < todayStr}
            onEdit={() => setDialog({ editing: e })}
            onDelete={() => remove(e)}
          />
        ))}
      </ul>
    ) : (
      <div className="bm-muted">{empty}</div>
    );

  return (
    <div className="bm-ws-page">
      <div className="bm-ws-head">
        <h1 className="bm-ws-head-title">
          <CalendarOutlined /> {C.title}
        </h1>
        <span className="bm-ws-spacer" />
        <Segmented<View>
          value={view}
          onChange={(v) => {
            setView(v);
            writeStored('botmox.calendar.view', v);
          }}
          options={[
            { value: 'month', label: C.month },
            { value: 'week', label: C.week },
          ]}
        />
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setDialog({ editing: null })}>
          {C.add}
        </Button>
      </div>
      {events.error && !events.data ? (
        <Alert
          type="error"
          showIcon
          message={S.ws.loadFailed}
          description={errorMessage(events.error)}
          action={
            <Button size="small" onClick={events.refresh}>
              {S.common.retry}
            </Button>
          }
        />
      ) : null}
      <div className="bm-cal">
        <Card className="bm-card" size="small">
          <div className="bm-cal-legend">
            <span>
              <span className="bm-cal-legend-dot" />
              {C.legendCount}
            </span>
            <span>
              <span className="bm-cal-legend-box" />
              {C.legendSelected}
            </span>
          </div>
          <div className="bm-cal-nav">
            <Tooltip title={C.prev}>
              <Button size="small" aria-label={C.prev} icon={<LeftOutlined />} onClick={() => step(-1)} />
            </Tooltip>
            <Button size="small" onClick={() => setCursor(new Date())}>
              {C.today}
            </Button>
            <Tooltip title={C.next}>
              <Button size="small" aria-label={C.next} icon={<RightOutlined />} onClick={() => step(1)} />
            </Tooltip>
            <span className="bm-cal-nav-title" data-testid="calendar-title" aria-live="polite">
              {title}
            </span>
            {events.loading && !events.data && <Spin size="small" />}
          </div>
          <div className={'bm-cal-grid' + (view === 'week' ? ' bm-cal-week' : '')} role="group" aria-label={title}>
            {C.weekdays.map((w) => (
              <div key={w} className="bm-cal-wd" aria-hidden="true">
                {w}
              </div>
            ))}
            {days.map((d) => {
              const key = ymd(d);
              return (
                <DayCell
                  key={key}
                  date={d}
                  events={byDay.get(key) ?? []}
                  inMonth={view === 'week' || d.getMonth() === cursor.getMonth()}
                  today={key === todayStr}
                  selected={key === selected}
                  limit={view === 'week' ? 3 : 2}
                  onSelect={() => setSelected(key === selected ? null : key)}
                />
              );
            })}
          </div>
        </Card>
        <Card
          className="bm-card bm-cal-side"
          size="small"
          title={selected ? C.panelDay(dmy(selected)) : C.panelAll}
          extra={
            <span className="bm-card-extra">
              {selected && (
                <Button size="small" type="link" onClick={() => setSelected(null)}>
                  {C.showAll}
                </Button>
              )}
              <Button size="small" icon={<PlusOutlined />} onClick={() => setDialog({ editing: null })}>
                {S.ws.new}
              </Button>
            </span>
          }
          data-testid="calendar-panel"
        >
          {!events.data ? (
            events.error ? null : <Spin />
          ) : selected ? (
            dayEvents.length ? (
              list(dayEvents, '')
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={C.noDayEvents(dmy(selected))} />
            )
          ) : (
            <>
              <div className="bm-cal-group">
                <FlagOutlined /> {C.missed(missed.length)}
              </div>
              {list(missed, C.noMissed)}
              <div className="bm-cal-group">
                <ClockCircleOutlined /> {C.upcoming(upcoming.length)}
              </div>
              {list(upcoming, C.noUpcoming)}
            </>
          )}
        </Card>
      </div>
      {dialog && (
        <EventDialog
          editing={dialog.editing}
          defaultDate={selected ?? todayStr}
          onClose={() => setDialog(null)}
          onSaved={events.refresh}
        />
      )}
    </div>
  );
}
