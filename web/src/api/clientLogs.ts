// Browser errors go to the server's log (web-ui.md §1.6): uncaught errors and unhandled
// rejections are queued and sent in batches of up to 10 to `POST /client-logs`, each batch
// tried up to 3 times. Nothing is sent while signed out (the route needs a session), and a
// failure to report never reports itself.

import { apiRequest } from './client';
import { isSignedIn } from './session';

const BATCH = 10;
const TRIES = 3;
const FLUSH_MS = 2_000;
/** A page stuck in an error loop must not grow the queue without bound. */
const MAX_QUEUED = 100;

interface ClientEvent {
  ts: string;
  level: 'error';
  event: string;
  message: string;
  path: string;
  error?: { name?: string; message?: string; stack?: string };
}

const queue: ClientEvent[] = [];
let timer: number | undefined;
let sending = false;

function describe(reason: unknown): ClientEvent['error'] {
  if (reason instanceof Error) return { name: reason.name, message: reason.message, stack: reason.stack };
  return { message: typeof reason === 'string' ? reason : JSON.stringify(reason) ?? String(reason) };
}

function push(event: string, message: string, reason: unknown): void {
  if (!isSignedIn() || queue.length >= MAX_QUEUED) return;
  queue.push({ ts: new Date().toISOString(), level: 'error', event, message: message || event, path: window.location.pathname, error: describe(reason) });
  if (queue.length >= BATCH) void flush();
  else if (timer === undefined) timer = window.setTimeout(() => void flush(), FLUSH_MS);
}

async function flush(): Promise<void> {
  window.clearTimeout(timer);
  timer = undefined;
  if (sending) return;
  sending = true;
  try {
    while (queue.length && isSignedIn()) {
      const events = queue.splice(0, BATCH);
      for (let attempt = 1; attempt <= TRIES; attempt++) {
        try {
          await apiRequest('POST', '/client-logs', { body: { events }, endSessionOn401: false });
          break;
        } catch {
          if (attempt < TRIES) await new Promise((r) => window.setTimeout(r, attempt * 1_000));
        }
      }
    }
  } finally {
    sending = false;
  }
}

/** Starts listening for the page's uncaught errors; called once at start. */
export function reportBrowserErrors(): void {
  window.addEventListener('error', (e) => push('window.error', e.message, e.error ?? e.message));
  window.addEventListener('unhandledrejection', (e) => push('unhandledrejection', describe(e.reason)?.message ?? '', e.reason));
}
