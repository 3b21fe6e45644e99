// Fetch wrapper for the Bot-Mox REST API (/api/v1).
//
// Every response is an envelope:
//   {success:true, data, meta?}                      → resolves with data
//   {success:false, error:{code, message, details?}} → throws ApiError
// The HTTP status does not decide success on its own: readiness answers 503
// with a success:true envelope while the server is not ready.
//
// The session is the HttpOnly cookie the browser sends by itself; changes (every method but
// GET/HEAD) also carry the session's CSRF value in X-Botmox-CSRF, learnt at sign-in or from
// whoami (docs/security.md, "Browser sessions").
//
// A 401 on an authenticated request clears the session and sends the browser
// to /login. Public requests (login, setup) just throw, so the page can show
// the server's message.

import { S } from '../strings';
import { clearSession, getCsrf, setCsrf } from './session';
import { setStorageFull } from './storage';

export const API_BASE = '/api/v1';
const CSRF_HEADER = 'X-Botmox-CSRF';
const CSRF_FAILED = 'CSRF_CHECK_FAILED';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;

  constructor(code: string, message: string, status: number, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export interface ApiResult<T> {
  data: T;
  meta?: unknown;
  status: number;
}

export interface RequestOptions {
  body?: unknown;
  /** false for public endpoints: no CSRF header, and a 401 does not end the session. */
  auth?: boolean;
  /** Whether a 401 ends the session and redirects to /login (default: same as auth). */
  endSessionOn401?: boolean;
  signal?: AbortSignal;
}

type UnauthorizedHandler = () => void;

let onUnauthorized: UnauthorizedHandler = () => {
  if (window.location.pathname !== '/login') window.location.assign('/login');
};

/** The router registers a navigate-based handler so a 401 does not reload the page. */
export function setUnauthorizedHandler(h: UnauthorizedHandler): void {
  onUnauthorized = h;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

let csrfLoading: Promise<string | null> | null = null;

/** The session's CSRF value; a page that does not know it yet (a reload) asks whoami once. */
function loadCsrf(): Promise<string | null> {
  const known = getCsrf();
  if (known) return Promise.resolve(known);
  csrfLoading ??= fetch(API_BASE + '/auth/whoami', {
    headers: { Accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
  })
    .then((r) => (r.ok ? r.json() : null))
    .then((p: unknown) => {
      const value = isRecord(p) && isRecord(p.data) && typeof p.data.csrf_token === 'string' ? p.data.csrf_token : null;
      setCsrf(value);
      return value;
    })
    .catch(() => null)
    .finally(() => {
      csrfLoading = null;
    });
  return csrfLoading;
}

/** The headers a request of `method` needs besides the cookie: the CSRF value for changes. */
export async function sessionHeaders(method: string): Promise<Record<string, string>> {
  if (method === 'GET' || method === 'HEAD') return {};
  const value = await loadCsrf();
  return value ? { [CSRF_HEADER]: value } : {};
}

/** True for the answer to a change whose CSRF value was stale (another tab signed in again). */
export function isCsrfRefusal(status: number, payload: unknown): boolean {
  return status === 403 && isRecord(payload) && isRecord(payload.error) && payload.error.code === CSRF_FAILED;
}

/**
 * GETs started in this task, by path: screens that mount together and ask for the same thing
 * (the shell and a page both read the fleet summary) share one request. Only for the moment
 * they start: a later GET must not get an answer that predates a write made meanwhile.
 */
const startedNow = new Map<string, Promise<ApiResult<unknown>>>();

export function apiRequest<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResult<T>> {
  if (method !== 'GET' || Object.values(opts).some((v) => v !== undefined)) return send<T>(method, path, opts);
  const shared = startedNow.get(path);
  if (shared) return shared as Promise<ApiResult<T>>;
  const started = send<T>(method, path, opts);
  startedNow.set(path, started);
  window.setTimeout(() => startedNow.delete(path), 0);
  return started;
}

async function send<T>(method: string, path: string, opts: RequestOptions, retried = false): Promise<ApiResult<T>> {
  const auth = opts.auth ?? true;
  const endSessionOn401 = opts.endSessionOn401 ?? auth;
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (auth) Object.assign(headers, await sessionHeaders(method));

  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      method,
      headers,
      body,
      signal: opts.signal,
      credentials: 'same-origin',
      // A GET revalidates with the server's ETag (If-None-Match → 304, body from the
      // browser's cache): a poll of an unchanged list costs a round trip, not the list.
      cache: method === 'GET' ? 'no-cache' : 'no-store',
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError('NETWORK_ERROR', S.common.networkError, 0);
  }

  let payload: unknown = undefined;
  const text = await res.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
  }

  if (auth && !retried && isCsrfRefusal(res.status, payload)) {
    setCsrf(null);
    return send<T>(method, path, opts, true);
  }

  if (res.status === 401 && endSessionOn401) {
    clearSession();
    onUnauthorized();
  }

  if (isRecord(payload) && payload.success === true && 'data' in payload) {
    if (method !== 'GET') setStorageFull(false);
    return { data: payload.data as T, meta: payload.meta, status: res.status };
  }

  if (isRecord(payload) && payload.success === false && isRecord(payload.error)) {
    const err = payload.error;
    if (err.code === 'STORAGE_FULL') setStorageFull(true);
    throw new ApiError(
      typeof err.code === 'string' ? err.code : 'UNKNOWN',
      typeof err.message === 'string' && err.message ? err.message : S.common.unexpectedResponse(res.status),
      res.status,
      err.details,
    );
  }

  throw new ApiError('BAD_RESPONSE', S.common.unexpectedResponse(res.status), res.status);
}

export const api = {
  get: <T>(path: string, opts?: Omit<RequestOptions, 'body'>) =>
    apiRequest<T>('GET', path, opts).then((r) => r.data),
  post: <T>(path: string, body?: unknown, opts?: Omit<RequestOptions, 'body'>) =>
    apiRequest<T>('POST', path, { ...opts, body: body ?? {} }).then((r) => r.data),
  put: <T>(path: string, body?: unknown, opts?: Omit<RequestOptions, 'body'>) =>
    apiRequest<T>('PUT', path, { ...opts, body: body ?? {} }).then((r) => r.data),
  patch: <T>(path: string, body?: unknown, opts?: Omit<RequestOptions, 'body'>) =>
    apiRequest<T>('PATCH', path, { ...opts, body: body ?? {} }).then((r) => r.data),
  delete: <T>(path: string, opts?: Omit<RequestOptions, 'body'>) =>
    apiRequest<T>('DELETE', path, opts).then((r) => r.data),
};

/** Per-field messages of a VALIDATION_FAILED error ({formErrors, fieldErrors} details). */
export function fieldErrors(e: unknown): Record<string, string[]> {
  if (!(e instanceof ApiError) || !isRecord(e.details) || !isRecord(e.details.fieldErrors)) return {};
  const out: Record<string, string[]> = {};
  for (const [field, list] of Object.entries(e.details.fieldErrors)) {
    if (Array.isArray(list)) {
      const msgs = list.filter((m): m is string => typeof m === 'string');
      if (msgs.length) out[field] = msgs;
    }
  }
  return out;
}

/** Human text for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error && e.message) return e.message;
  return S.common.networkError;
}
