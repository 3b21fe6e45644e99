// Notes (web-ui.md §2.9): a searchable list (pinned first, then the last
// written) and a Markdown editor with autosave. `?note=<id>` opens a note.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { Alert, App, Button, Empty, Input, Segmented, Select, Spin, Tag, Tooltip } from 'antd';
import {
  DeleteOutlined,
  MenuFoldOutlined,
  MenuUnfoldOutlined,
  PlusOutlined,
  PushpinFilled,
  PushpinOutlined,
  SaveOutlined,
  SearchOutlined,
} from '@ant-design/icons';
import { ApiError, errorMessage } from '../../api/client';
import { useDeleteAction } from '../../components/crud';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { notesApi, type Note } from '../../api/workspace';
import Markdown, { plainPreview } from './Markdown';
import { readStored, writeStored } from './storage';
import './workspace.css';

const POLL_MS = 3_000;
const PAGE = 50;
const AUTOSAVE_MS = 2_000;
const TAG_COLORS = ['blue', 'green', 'purple', 'orange', 'cyan', 'magenta', 'gold'];

type Mode = 'edit' | 'split' | 'preview';

function tagColor(tag: string): string {
  let h = 0;
  for (const c of tag) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return TAG_COLORS[h % TAG_COLORS.length];
}

function shortDate(ms: number | undefined): string {
  if (!ms) return '';
  const d = new Date(ms);
  const label = `${S.calendar.monthsShort[d.getMonth()]} ${d.getDate()}`;
  return d.getFullYear() === new Date().getFullYear() ? label : `${label}, ${d.getFullYear()}`;
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return v;
}

interface Draft {
  title: string;
  content: string;
  tags: string[];
  is_pinned: boolean;
}

const toDraft = (n: Note): Draft => ({
  title: n.title ?? '',
  content: n.content ?? '',
  tags: Array.isArray(n.tags) ? n.tags.filter((t): t is string => typeof t === 'string') : [],
  is_pinned: n.is_pinned === true,
});

function NoteCard({
  note,
  selected,
  onOpen,
  onPin,
  onDelete,
}: {
  note: Note;
  selected: boolean;
  onOpen: () => void;
  onPin: () => void;
  onDelete: () => void;
}) {
  const tags = toDraft(note).tags;
  return (
    <li className={'bm-note-card' + (selected ? ' is-selected' : '')} data-testid="note-card">
      <button type="button" className="bm-note-open" onClick={onOpen} aria-current={selected || undefined}>
        <span className="bm-note-card-title">
          {note.is_pinned && <PushpinFilled className="bm-note-pin" aria-label={S.notes.pinned} />}
          {note.title?.trim() || S.ws.untitled}
        </span>
        {note.content ? <span className="bm-note-card-preview">{plainPreview(note.content)}</span> : null}
        <span className="bm-note-card-meta">
          {tags.slice(0, 3).map((t) => (
            <Tag key={t} color={tagColor(t)} bordered={false}>
              {t}
            </Tag>
          ))}
          {tags.length > 3 && <Tag bordered={false}>+{tags.length - 3}</Tag>}
          <span className="bm-note-card-date">{shortDate(note.updated_at ?? note.created_at)}</span>
        </span>
      </button>
      <span className="bm-note-card-actions">
        <Tooltip title={note.is_pinned ? S.notes.unpin : S.notes.pin}>
          <Button
            size="small"
            type="text"
            aria-label={note.is_pinned ? S.notes.unpin : S.notes.pin}
            icon={note.is_pinned ? <PushpinFilled /> : <PushpinOutlined />}
            onClick={onPin}
          />
        </Tooltip>
        <Tooltip title={S.crud.delete}>
          <Button size="small" type="text" danger aria-label={S.crud.delete} icon={<DeleteOutlined />} onClick={onDelete} />
        </Tooltip>
      </span>
    </li>
  );
}

type SaveState = 'clean' | 'dirty' | 'saving' | 'saved';

function Editor({ id, onChanged, onDelete }: { id: string; onChanged: () => void; onDelete: (n: Note) => void }) {
  const { message } = App.useApp();
  const [note, setNote] = useState<Note | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [state, setState] = useState<SaveState>('clean');
  const [mode, setMode] = useState<Mode>(() => readStored<Mode>('botmox.notes.mode', ['edit', 'split', 'preview'], 'split'));
  const draftRef = useRef(draft);
  draftRef.current = draft;
  const savingRef = useRef<Promise<void> | null>(null);

  useEffect(() => {
    let alive = true;
    setNote(null);
    setDraft(null);
    setError(undefined);
    setState('clean');
    notesApi.get(id).then(
      (n) => {
        if (!alive) return;
        setNote(n);
        setDraft(toDraft(n));
      },
      (e: unknown) => alive && setError(e),
    );
    return () => {
      alive = false;
    };
  }, [id]);

  const save = useCallback(
    async (announce: boolean) => {
      const d = draftRef.current;
      if (!d) return;
      await savingRef.current;
      setState('saving');
      const run = notesApi.patch(id, d).then(
        (n) => {
          setNote(n);
          // Typing during the save keeps its own changes.
          setState(draftRef.current === d ? 'saved' : 'dirty');
          if (announce) message.success(S.notes.noteSaved);
          onChanged();
        },
        (e: unknown) => {
          setState('dirty');
          message.error(`${S.ws.saveFailed}: ${errorMessage(e)}`);
        },
      );
      savingRef.current = run;
      await run;
    },
    [id, message, onChanged],
  );

  useEffect(() => {
    if (state !== 'dirty') return;
    const t = window.setTimeout(() => void save(false), AUTOSAVE_MS);
    return () => window.clearTimeout(t);
  }, [state, draft, save]);

  // Leaving the note (or the page) with pending changes saves them.
  const stateRef = useRef(state);
  stateRef.current = state;
  useEffect(
    () => () => {
      const d = draftRef.current;
      // A 404 here means the note was just deleted: nothing to keep.
      if (stateRef.current === 'dirty' && d) {
        notesApi.patch(id, d).then(onChanged, (e: unknown) => {
          if (!(e instanceof ApiError && e.status === 404)) message.error(`${S.ws.saveFailed}: ${errorMessage(e)}`);
        });
      }
    },
    [id, message, onChanged],
  );

  const change = (patch: Partial<Draft>) => {
    setDraft((d) => (d ? { ...d, ...patch } : d));
    setState('dirty');
  };

  if (error) {
    return (
      <div className="bm-notes-empty">
        <Alert type="error" showIcon message={S.notes.missing} description={errorMessage(error)} />
      </div>
    );
  }
  if (!draft || !note) {
    return (
      <div className="bm-notes-empty">
        <Spin />
      </div>
    );
  }

  const status =
    state === 'dirty' ? S.notes.unsaved : state === 'saving' ? S.notes.saving : state === 'saved' ? S.notes.saved : '';

  return (
    <div
      className="bm-note-editor"
      onKeyDown={(e) => {
        if ((e.ctrlKey || e.metaKey) && e.key === 's') {
          e.preventDefault();
          void save(true);
        }
      }}
    >
      <div className="bm-note-toolbar">
        <Input
          className="bm-note-title"
          variant="borderless"
          value={draft.title}
          placeholder={S.notes.titlePlaceholder}
          aria-label={S.notes.titlePlaceholder}
          maxLength={200}
          onChange={(e) => change({ title: e.target.value })}
        />
        <span className="bm-note-status" role="status" data-testid="note-save-state">
          {status}
        </span>
        <Segmented<Mode>
          size="small"
          value={mode}
          onChange={(m) => {
            setMode(m);
            writeStored('botmox.notes.mode', m);
          }}
          options={[
            { value: 'edit', label: S.notes.modeEdit },
            { value: 'split', label: S.notes.modeSplit },
            { value: 'preview', label: S.notes.modePreview },
          ]}
        />
        <Tooltip title={draft.is_pinned ? S.notes.unpin : S.notes.pin}>
          <Button
            size="small"
            aria-pressed={draft.is_pinned}
            aria-label={draft.is_pinned ? S.notes.unpin : S.notes.pin}
            icon={draft.is_pinned ? <PushpinFilled /> : <PushpinOutlined />}
            onClick={() => change({ is_pinned: !draft.is_pinned })}
          />
        </Tooltip>
        <Button size="small" type="primary" icon={<SaveOutlined />} loading={state === 'saving'} onClick={() => void save(true)}>
          {S.crud.save}
        </Button>
        <Tooltip title={S.crud.delete}>
          <Button size="small" danger icon={<DeleteOutlined />} aria-label={S.crud.delete} onClick={() => onDelete(note)} />
        </Tooltip>
      </div>
      <Select
        className="bm-note-tags"
        mode="tags"
        size="small"
        variant="borderless"
        value={draft.tags}
        placeholder={S.notes.tagsPlaceholder}
        aria-label={S.notes.tags}
        tokenSeparators={[',']}
        onChange={(tags: string[]) => change({ tags: tags.map((t) => t.trim()).filter(Boolean) })}
        tagRender={({ label, value, closable, onClose }) => (
          <Tag color={tagColor(String(value))} closable={closable} onClose={onClose}>
            {label}
          </Tag>
        )}
      />
      <div className={`bm-note-body is-${mode}`}>
        {mode !== 'preview' && (
          <Input.TextArea
            className="bm-note-text"
            value={draft.content}
            placeholder={S.notes.bodyPlaceholder}
            aria-label={S.notes.bodyPlaceholder}
            onChange={(e) => change({ content: e.target.value })}
          />
        )}
        {mode !== 'edit' && (
          <div className="bm-note-preview" data-testid="note-preview">
            <Markdown source={draft.content} empty={<span className="bm-muted">{S.notes.emptyPreview}</span>} />
          </div>
        )}
      </div>
    </div>
  );
}

export default function NotesPage() {
  const { message } = App.useApp();
  const [params, setParams] = useSearchParams();
  const selectedId = params.get('note');
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 300);
  const [pages, setPages] = useState(1);
  const [collapsed, setCollapsed] = useState(() => readStored('botmox.notes.collapsed', ['1', '0'], '0') === '1');

  useEffect(() => setPages(1), [q]);

  const load = useCallback(
    () => notesApi.page({ page: 1, limit: Math.min(200, PAGE * pages), sort: 'is_pinned', order: 'desc', q }),
    [pages, q],
  );
  const list = usePolling(load, POLL_MS);
  const items = useMemo(() => list.data?.items ?? [], [list.data]);
  const total = list.data?.total ?? 0;

  const open = useCallback(
    (id: string | null) =>
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (id) next.set('note', id);
          else next.delete('note');
          return next;
        },
        { replace: false },
      ),
    [setParams],
  );

  const create = async () => {
    try {
      const n = await notesApi.create({ title: S.notes.newNote, content: '', tags: [], is_pinned: false });
      list.refresh();
      open(n.id);
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const togglePin = async (n: Note) => {
    try {
      await notesApi.patch(n.id, { is_pinned: !n.is_pinned });
      list.refresh();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const selectedRef = useRef(selectedId);
  selectedRef.current = selectedId;
  const remove = useDeleteAction<Note>({
    remove: async (n) => {
      await notesApi.remove(n.id);
      if (n.id === selectedRef.current) open(null);
    },
    recreate: (n) => notesApi.create(n),
    confirm: () => ({ title: S.notes.deleteConfirm, content: S.notes.deleteText }),
    label: (n) => `${S.notes.what} "${n.title?.trim() || S.ws.untitled}"`,
    onChange: list.refresh,
  });

  const pinned = items.filter((n) => n.is_pinned).length;

  return (
    <div className="bm-notes">
      <aside className={'bm-notes-side' + (collapsed ? ' is-collapsed' : '')} aria-label={S.notes.title}>
        <div className="bm-notes-head">
          {!collapsed && <h1 className="bm-notes-title">{S.notes.title}</h1>}
          <Tooltip title={collapsed ? S.notes.expand : S.notes.collapse}>
            <Button
              type="text"
              size="small"
              aria-label={collapsed ? S.notes.expand : S.notes.collapse}
              icon={collapsed ? <MenuUnfoldOutlined /> : <MenuFoldOutlined />}
              onClick={() => {
                setCollapsed(!collapsed);
                writeStored('botmox.notes.collapsed', collapsed ? '0' : '1');
              }}
            />
          </Tooltip>
          <Tooltip title={S.notes.add}>
            <Button type="primary" size="small" aria-label={S.notes.add} icon={<PlusOutlined />} onClick={() => void create()} />
          </Tooltip>
        </div>
        {!collapsed && (
          <>
            <div className="bm-notes-search">
              <Input
                allowClear
                size="small"
                prefix={<SearchOutlined />}
                placeholder={S.notes.search}
                aria-label={S.notes.search}
                value={search}
                onChange={(e) => setSearch(e.target.value)}
              />
            </div>
            {list.error && !list.data ? (
              <Alert
                className="bm-ws-alert"
                type="error"
                showIcon
                message={S.ws.loadFailed}
                description={errorMessage(list.error)}
                action={
                  <Button size="small" onClick={list.refresh}>
                    {S.common.retry}
                  </Button>
                }
              />
            ) : !list.data ? (
              <div className="bm-notes-loading">
                <Spin />
              </div>
            ) : items.length === 0 ? (
              <Empty className="bm-notes-none" image={Empty.PRESENTED_IMAGE_SIMPLE} description={q ? S.notes.notFound : S.notes.empty}>
                {!q && (
                  <Button type="primary" size="small" onClick={() => void create()}>
                    {S.notes.createNote}
                  </Button>
                )}
              </Empty>
            ) : (
              <ul className="bm-notes-list" aria-label={S.notes.title}>
                {items.map((n) => (
                  <NoteCard
                    key={n.id}
                    note={n}
                    selected={n.id === selectedId}
                    onOpen={() => open(n.id)}
                    onPin={() => void togglePin(n)}
                    onDelete={() => remove(n)}
                  />
                ))}
                {items.length < total && (
                  <li className="bm-notes-more">
                    <Button size="small" block onClick={() => setPages(pages + 1)}>
                      {S.ws.loadMore}
                    </Button>
                  </li>
                )}
              </ul>
            )}
            <div className="bm-notes-foot">
              <span data-testid="notes-count">{S.notes.count(total)}</span>
              {items.length >= total && <span>{S.notes.pinnedCount(pinned)}</span>}
            </div>
          </>
        )}
      </aside>
      <section className="bm-notes-main">
        {selectedId ? (
          <Editor key={selectedId} id={selectedId} onChanged={list.refresh} onDelete={remove} />
        ) : (
          <div className="bm-notes-empty">
            <Empty description={<><div className="bm-strong">{S.notes.selectTitle}</div><div className="bm-muted">{S.notes.selectText}</div></>} />
          </div>
        )}
      </section>
    </div>
  );
}
