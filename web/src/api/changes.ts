// The change feed (GET /api/v1/events/stream, docs/api.md): one EventSource per tab, shared
// by every screen that follows a domain. The browser resumes it with Last-Event-ID after a
// drop; when the server cannot replay that far back it sends `reset`, and every listener
// reloads.

import { API_BASE } from './client';

export interface Change {
  seq: number;
  /** A document collection (`bots`, `licenses`, `notes`, …) or `settings`. */
  domain: string;
  /** The document's id; for settings, the top-level section (`projects`). */
  id: string;
  op: 'create' | 'update' | 'delete';
}

/** Called with a change, or with null after a reset (reload whatever you show). */
export type ChangeListener = (change: Change | null) => void;

const listeners = new Set<ChangeListener>();
let source: EventSource | null = null;

function emit(change: Change | null) {
  for (const l of [...listeners]) l(change);
}

function open() {
  if (typeof EventSource === 'undefined') return;
  source = new EventSource(API_BASE + '/events/stream');
  source.addEventListener('change', (e) => {
    try {
      emit(JSON.parse((e as MessageEvent<string>).data) as Change);
    } catch {
      // A line we cannot read changes nothing we know of.
    }
  });
  source.addEventListener('reset', () => emit(null));
}

/** Follows the feed until the returned function is called; the stream closes with the last. */
export function subscribe(listener: ChangeListener): () => void {
  listeners.add(listener);
  if (!source) open();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && source) {
      source.close();
      source = null;
    }
  };
}

/** Whether `change` is about one of `topics`: `domain` or `domain/id` (e.g. `settings/projects`). */
export function concerns(change: Change | null, topics: readonly string[]): boolean {
  return change === null || topics.some((t) => t === change.domain || t === `${change.domain}/${change.id}`);
}
