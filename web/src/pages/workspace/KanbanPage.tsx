// Kanban (web-ui.md §2.11, rewrite): three columns ordered by `order`; cards
// move by drag and drop (native HTML5) within and across columns, or with the
// arrow buttons from the keyboard. A move renumbers the touched columns and
// patches the tasks whose `status` or `order` changed; until the server's list
// shows those values, they are laid over it, so a poll that was already on its
// way cannot jump the card back.

import { useCallback, useEffect, useMemo, useState, type DragEvent, type ReactNode } from 'react';
import { Alert, App, Button, Empty, Form, Input, Select, Spin, Tag, Tooltip } from 'antd';
import {
  ArrowDownOutlined,
  ArrowLeftOutlined,
  ArrowRightOutlined,
  ArrowUpOutlined,
  CheckCircleOutlined,
  DeleteOutlined,
  EditOutlined,
  PlusOutlined,
} from '@ant-design/icons';
import { errorMessage } from '../../api/client';
import DateField from '../../components/DateField';
import { EntityDialog, useDeleteAction } from '../../components/crud';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { KANBAN_COLUMNS, kanbanApi, type KanbanStatus, type KanbanTask } from '../../api/workspace';
import { parseYmd, ymd } from './dates';
import './workspace.css';

const POLL_MS = 6_000;
const TITLE_MAX = 120;
const K = S.kanban;
const DRAG_TYPE = 'application/x-botmox-task';

type Board = Record<KanbanStatus, KanbanTask[]>;
type Placement = { status: KanbanStatus; order: number };

function boardOf(tasks: KanbanTask[]): Board {
  const b: Board = { todo: [], in_progress: [], done: [] };
  for (const t of tasks) (b[t.status] ?? b.todo).push(t);
  for (const col of KANBAN_COLUMNS) b[col].sort((x, y) => (x.order ?? 0) - (y.order ?? 0));
  return b;
}

/** The board after moving `id` to `col` at `index` (an index in the column without the card). */
function moved(board: Board, id: string, col: KanbanStatus, index: number): Board {
  const next: Board = { todo: [...board.todo], in_progress: [...board.in_progress], done: [...board.done] };
  let card: KanbanTask | undefined;
  for (const c of KANBAN_COLUMNS) {
    const i = next[c].findIndex((t) => t.id === id);
    if (i >= 0) [card] = next[c].splice(i, 1);
  }
  if (!card) return board;
  next[col].splice(Math.max(0, Math.min(index, next[col].length)), 0, { ...card, status: col });
  return next;
}

function dueTag(due: string | null | undefined) {
  const d = parseYmd(due);
  if (!d) return <Tag bordered={false}>{K.noDue}</Tag>;
  const overdue = ymd(d) < ymd(new Date());
  return (
    <Tag color={overdue ? 'red' : 'blue'}>
      {K.due(`${String(d.getDate()).padStart(2, '0')} ${S.calendar.monthsShort[d.getMonth()]}`)}
    </Tag>
  );
}

interface TaskForm {
  title: string;
  status: KanbanStatus;
  due_date?: string;
  description?: string;
}

export default function KanbanPage() {
  const { message } = App.useApp();
  const load = useCallback(() => kanbanApi.all({ sort: 'order', order: 'asc' }), []);
  const tasks = usePolling(load, POLL_MS);
  const [pending, setPending] = useState<Map<string, Placement>>(() => new Map());
  const board = useMemo(
    () => boardOf((tasks.data ?? []).map((t) => ({ ...t, ...pending.get(t.id) }))),
    [tasks.data, pending],
  );
  // Placements the server now shows (or whose task is gone) are no longer needed.
  useEffect(() => {
    const server = new Map((tasks.data ?? []).map((t) => [t.id, t] as const));
    setPending((prev) => {
      const next = new Map(
        [...prev].filter(([id, p]) => {
          const t = server.get(id);
          return t !== undefined && (t.status !== p.status || t.order !== p.order);
        }),
      );
      return next.size === prev.size ? prev : next;
    });
  }, [tasks.data]);
  const [dragId, setDragId] = useState<string | null>(null);
  const [over, setOver] = useState<{ col: KanbanStatus; index: number } | null>(null);
  const [dialog, setDialog] = useState<{ editing: KanbanTask | null; status: KanbanStatus } | null>(null);

  const remove = useDeleteAction<KanbanTask>({
    remove: (t) => kanbanApi.remove(t.id),
    recreate: (t) => kanbanApi.create(t),
    confirm: (t) => ({ title: K.deleteConfirm, content: t.title }),
    label: (t) => `${K.what} "${t.title}"`,
    onChange: tasks.refresh,
  });

  const move = async (id: string, col: KanbanStatus, index: number) => {
    const next = moved(board, id, col, index);
    if (next === board) return;
    const before = new Map(KANBAN_COLUMNS.flatMap((c) => board[c].map((t) => [t.id, t] as const)));
    const changes = new Map<string, Placement>();
    for (const c of KANBAN_COLUMNS) {
      next[c].forEach((t, i) => {
        const b = before.get(t.id);
        if (b && (b.status !== c || b.order !== i)) changes.set(t.id, { status: c, order: i });
      });
    }
    setPending((prev) => new Map([...prev, ...changes]));
    const results = await Promise.allSettled([...changes].map(([tid, p]) => kanbanApi.patch(tid, p)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      message.error(`${K.moveFailed}: ${errorMessage(failed.reason)}`);
      setPending((prev) => new Map([...prev].filter(([tid]) => !changes.has(tid))));
    }
    tasks.refresh();
  };

  const nextOrder = (col: KanbanStatus) => board[col].reduce((m, t) => Math.max(m, (t.order ?? 0) + 1), 0);

  const dropIndex = (e: DragEvent<HTMLElement>, col: KanbanStatus): number => {
    const cards = [...e.currentTarget.querySelectorAll<HTMLElement>('[data-task-id]')].filter(
      (el) => el.dataset.taskId !== dragId,
    );
    const i = cards.findIndex((el) => {
      const r = el.getBoundingClientRect();
      return e.clientY < r.top + r.height / 2;
    });
    return i < 0 ? board[col].filter((t) => t.id !== dragId).length : i;
  };

  const columnTone: Record<KanbanStatus, string | undefined> = { todo: undefined, in_progress: 'blue', done: 'green' };

  return (
    <div className="bm-ws-page">
      <div className="bm-ws-head">
        <h1 className="bm-ws-head-title">
          <CheckCircleOutlined /> {K.title}
        </h1>
        <span className="bm-muted">{K.dragHint}</span>
        <span className="bm-ws-spacer" />
        {tasks.loading && !tasks.data && <Spin size="small" />}
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setDialog({ editing: null, status: 'todo' })}>
          {K.add}
        </Button>
      </div>
      {tasks.error && !tasks.data ? (
        <Alert
          type="error"
          showIcon
          message={S.ws.loadFailed}
          description={errorMessage(tasks.error)}
          action={
            <Button size="small" onClick={tasks.refresh}>
              {S.common.retry}
            </Button>
          }
        />
      ) : null}
      <div className="bm-kanban">
        {KANBAN_COLUMNS.map((col, ci) => {
          const cards = board[col];
          const dropAt = over?.col === col ? over.index : -1;
          return (
            <section
              key={col}
              className={'bm-kcol' + (over?.col === col ? ' is-over' : '')}
              aria-label={K.columns[col]}
              data-testid={`kanban-col-${col}`}
              onDragOver={(e) => {
                if (!dragId) return;
                e.preventDefault();
                e.dataTransfer.dropEffect = 'move';
                const index = dropIndex(e, col);
                if (over?.col !== col || over.index !== index) setOver({ col, index });
              }}
              onDragLeave={(e) => {
                if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(null);
              }}
              onDrop={(e) => {
                e.preventDefault();
                const id = e.dataTransfer.getData(DRAG_TYPE) || dragId;
                const index = dropIndex(e, col);
                setOver(null);
                setDragId(null);
                if (id) void move(id, col, index);
              }}
            >
              <header className="bm-kcol-head">
                <span>{K.columns[col]}</span>
                <Tag color={columnTone[col]} data-testid={`kanban-count-${col}`}>
                  {cards.length}
                </Tag>
                <span className="bm-ws-spacer" />
                <Button size="small" icon={<PlusOutlined />} onClick={() => setDialog({ editing: null, status: col })}>
                  {S.ws.new}
                </Button>
              </header>
              <ol className="bm-kcol-body">
                {cards.length === 0 && dropAt < 0 && (
                  <li className="bm-kcol-empty">
                    <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={K.empty} />
                  </li>
                )}
                {(() => {
                  // Drop positions count the cards without the one being dragged.
                  let k = 0;
                  const items = cards.map((t, i) => {
                    const dragging = t.id === dragId;
                    const at = dragging ? -1 : k++;
                    return (
                      <KanbanCard
                        key={t.id}
                        task={t}
                        dragging={dragging}
                        dropBefore={at >= 0 && dropAt === at}
                        canLeft={ci > 0}
                        canRight={ci < KANBAN_COLUMNS.length - 1}
                        canUp={i > 0}
                        canDown={i < cards.length - 1}
                        onDragStart={(e) => {
                          e.dataTransfer.setData(DRAG_TYPE, t.id);
                          e.dataTransfer.effectAllowed = 'move';
                          setDragId(t.id);
                        }}
                        onDragEnd={() => {
                          setDragId(null);
                          setOver(null);
                        }}
                        onMove={(dc, di) => {
                          const target = KANBAN_COLUMNS[ci + dc];
                          void move(t.id, target, dc === 0 ? i + di : board[target].length);
                        }}
                        onEdit={() => setDialog({ editing: t, status: t.status })}
                        onDelete={() => remove(t)}
                      />
                    );
                  });
                  return (
                    <>
                      {items}
                      {dropAt >= 0 && dropAt === k && <li className="bm-kdrop" aria-hidden />}
                    </>
                  );
                })()}
              </ol>
            </section>
          );
        })}
      </div>
      {dialog && (
        <EntityDialog<TaskForm>
          open
          title={dialog.editing ? K.editTitle : K.createTitle}
          testId="task-dialog"
          initialValues={
            dialog.editing
              ? {
                  title: dialog.editing.title,
                  status: dialog.editing.status,
                  due_date: dialog.editing.due_date ?? undefined,
                  description: dialog.editing.description ?? '',
                }
              : { status: dialog.status }
          }
          successMessage={dialog.editing ? K.updated : K.created}
          onClose={() => setDialog(null)}
          onSubmit={async (v) => {
            const body: Partial<KanbanTask> = {
              title: v.title.trim(),
              status: v.status,
              due_date: v.due_date || null,
              description: v.description ?? '',
            };
            const editing = dialog.editing;
            // A task that lands in another column goes to its end.
            if (!editing || editing.status !== v.status) body.order = nextOrder(v.status);
            if (editing) await kanbanApi.patch(editing.id, body);
            else await kanbanApi.create(body);
            tasks.refresh();
          }}
        >
          <Form.Item
            name="title"
            label={K.fieldTitle}
            rules={[
              { required: true, whitespace: true, message: S.ws.titleRequired },
              { max: TITLE_MAX, message: S.ws.titleMax(TITLE_MAX) },
            ]}
          >
            <Input autoFocus />
          </Form.Item>
          <Form.Item name="status" label={K.fieldColumn} rules={[{ required: true }]}>
            <Select options={KANBAN_COLUMNS.map((c) => ({ value: c, label: K.columns[c] }))} />
          </Form.Item>
          <Form.Item name="due_date" label={K.fieldDue}>
            <DateField />
          </Form.Item>
          <Form.Item name="description" label={K.fieldDescription}>
            <Input.TextArea rows={3} maxLength={2000} />
          </Form.Item>
        </EntityDialog>
      )}
    </div>
  );
}

function KanbanCard({
  task,
  dragging,
  dropBefore,
  canLeft,
  canRight,
  canUp,
  canDown,
  onDragStart,
  onDragEnd,
  onMove,
  onEdit,
  onDelete,
}: {
  task: KanbanTask;
  dragging: boolean;
  dropBefore: boolean;
  canLeft: boolean;
  canRight: boolean;
  canUp: boolean;
  canDown: boolean;
  onDragStart: (e: DragEvent<HTMLElement>) => void;
  onDragEnd: () => void;
  /** (column step, index step within the column) */
  onMove: (dc: number, di: number) => void;
  onEdit: () => void;
  onDelete: () => void;
}) {
  const action = (label: string, icon: ReactNode, onClick: () => void, danger = false) => (
    <Tooltip title={label}>
      <Button size="small" type="text" danger={danger} aria-label={`${label}: ${task.title}`} icon={icon} onClick={onClick} />
    </Tooltip>
  );
  return (
    <>
      {dropBefore && <li className="bm-kdrop" aria-hidden />}
      <li
        className={'bm-kcard' + (task.status === 'done' ? ' is-done' : '') + (dragging ? ' is-dragging' : '')}
        draggable
        data-task-id={task.id}
        data-testid="kanban-card"
        onDragStart={onDragStart}
        onDragEnd={onDragEnd}
      >
        <div className="bm-kcard-title">{task.title || S.ws.untitled}</div>
        <div className="bm-kcard-desc">{task.description?.trim() || S.ws.noDescription}</div>
        <div className="bm-kcard-foot">
          {dueTag(task.due_date)}
          {canUp && action(K.moveUp, <ArrowUpOutlined />, () => onMove(0, -1))}
          {canDown && action(K.moveDown, <ArrowDownOutlined />, () => onMove(0, 1))}
          {canLeft && action(K.moveLeft, <ArrowLeftOutlined />, () => onMove(-1, 0))}
          {canRight && action(K.moveRight, <ArrowRightOutlined />, () => onMove(1, 0))}
          {action(S.crud.edit, <EditOutlined />, onEdit)}
          {action(S.crud.delete, <DeleteOutlined />, onDelete, true)}
        </div>
      </li>
    </>
  );
}
