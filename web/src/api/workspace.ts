// Workspace documents (api-domains.md §8): notes, calendar events, kanban tasks.

import { api } from './client';
import { fetchAll, fetchListPage, type ListQuery } from './lists';

export type Kind = 'notes' | 'calendar' | 'kanban';

interface Doc {
  id: string;
  created_at?: number;
  updated_at?: number;
}

export interface Note extends Doc {
  title?: string;
  content?: string;
  tags?: string[];
  is_pinned?: boolean;
}

export interface CalendarEvent extends Doc {
  title: string;
  description?: string;
  /** YYYY-MM-DD, all-day. */
  date: string;
  linked_note_id?: string | null;
}

export type KanbanStatus = 'todo' | 'in_progress' | 'done';
export const KANBAN_COLUMNS: KanbanStatus[] = ['todo', 'in_progress', 'done'];

export interface KanbanTask extends Doc {
  title: string;
  description?: string;
  status: KanbanStatus;
  due_date?: string | null;
  order?: number;
}

const path = (kind: Kind, id?: string) => `/workspace/${kind}` + (id ? '/' + encodeURIComponent(id) : '');

export function workspaceApi<T extends Doc>(kind: Kind) {
  return {
    page: (q: ListQuery) => fetchListPage<T>(path(kind), q),
    all: (q: Omit<Partial<ListQuery>, 'page' | 'limit'> = {}) => fetchAll<T>(path(kind), q),
    get: (id: string) => api.get<T>(path(kind, id)),
    /** With the old id (and timestamps) it restores a deleted document, for undo. */
    create: (body: Partial<T>) => api.post<T>(path(kind), body),
    patch: (id: string, body: Partial<T>) => api.patch<T>(path(kind, id), body),
    remove: (id: string) => api.delete<{ id: string; deleted: boolean }>(path(kind, id)),
  };
}

export const notesApi = workspaceApi<Note>('notes');
export const calendarApi = workspaceApi<CalendarEvent>('calendar');
export const kanbanApi = workspaceApi<KanbanTask>('kanban');
