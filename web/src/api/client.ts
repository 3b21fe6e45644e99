// Fetch wrapper for the Bot-Mox REST API (/api/v1).
//
// Every response is an envelope:
//   {success:true, data, meta?}                      → resolves with data
//   {success:false, error:{code, message, details?}} → throws ApiError
// The HTTP status does not decide success on its own: readiness answers 503
// with a success:true envelope while the server is not ready.
//
// A 401 on an authenticated request clears the session and sends the browser
// to /login. Public requests (login, setup) just throw, so the page can show
// the server's message.

import { S } from '../strings';
import { clearSession, getToken } from './session';
import { setStorageFull } from './storage';

export const API_BASE = '/api/v1';

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
  /** false for public endpoints: no bearer, and a 401 does not end the session. */
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

export async function apiRequest<T>(
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<ApiResult<T>> {
  const auth = opts.auth ?? true;
  const endSessionOn401 = opts.endSessionOn401 ?? auth;
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const token = auth ? getToken() : null;
  if (token) headers.Authorization = `Bearer ${token}`;

  let res: Response;
  try {
    res = await fetch(API_BASE + path, {
      method,
      headers,
      body,
      signal: opts.signal,
      credentials: 'same-origin',
      cache: 'no-store',
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
