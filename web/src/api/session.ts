// The browser session. The session token lives only in an HttpOnly cookie that no script can
// read; what is kept here is who is signed in, in localStorage under `botmox.session` as
// {expires_at, user:{id,email,roles,tenant_id}} (nothing secret: it lets the shell render and
// other tabs follow a sign-out), and the session's CSRF value in memory only.

import { useSyncExternalStore } from 'react';

export const SESSION_KEY = 'botmox.session';

export interface SessionUser {
  id: string;
  email: string;
  roles: string[];
  tenant_id: string;
}

export interface Session {
  /** As sent by the server: RFC 3339 text or Unix seconds. */
  expires_at: string | number | null;
  user: SessionUser;
}

type Listener = () => void;
const listeners = new Set<Listener>();

function isSessionUser(v: unknown): v is SessionUser {
  if (!v || typeof v !== 'object') return false;
  const u = v as Record<string, unknown>;
  return (
    typeof u.id === 'string' &&
    typeof u.email === 'string' &&
    Array.isArray(u.roles) &&
    u.roles.every((r) => typeof r === 'string') &&
    typeof u.tenant_id === 'string'
  );
}

function isSession(v: unknown): v is Session {
  if (!v || typeof v !== 'object') return false;
  const s = v as Record<string, unknown>;
  return (
    (s.expires_at === null ||
      s.expires_at === undefined ||
      typeof s.expires_at === 'string' ||
      typeof s.expires_at === 'number') &&
    isSessionUser(s.user)
  );
}

/** Expiry as epoch milliseconds, or null when unknown. */
export function expiryMillis(expires_at: Session['expires_at']): number | null {
  if (expires_at === null || expires_at === undefined) return null;
  if (typeof expires_at === 'number') {
    // Seconds (server style) vs. milliseconds.
    return expires_at < 1e12 ? expires_at * 1000 : expires_at;
  }
  const t = Date.parse(expires_at);
  return Number.isNaN(t) ? null : t;
}

export function isExpired(s: Session, now = Date.now()): boolean {
  const t = expiryMillis(s.expires_at);
  return t !== null && t <= now;
}

function read(): Session | null {
  try {
    const raw = window.localStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && 'token' in parsed) {
      // Left by a version that kept the bearer token here: drop it, the cookie is the session now.
      window.localStorage.removeItem(SESSION_KEY);
      return null;
    }
    if (!isSession(parsed)) return null;
    return parsed;
  } catch {
    return null;
  }
}

let current: Session | null = read();
/** The X-Botmox-CSRF value of the cookie session; learnt at sign-in or from whoami. */
let csrf: string | null = null;

function emit() {
  for (const l of listeners) l();
}

export function getSession(): Session | null {
  if (current && isExpired(current)) {
    clearSession();
  }
  return current;
}

export function isSignedIn(): boolean {
  return getSession() !== null;
}

export function getCsrf(): string | null {
  return csrf;
}

export function setCsrf(value: string | null): void {
  csrf = value;
}

export function setSession(s: Session): void {
  current = s;
  try {
    window.localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  } catch {
    // Storage full or disabled: keep the in-memory session for this tab.
  }
  emit();
}

export function updateSessionUser(user: SessionUser): void {
  if (!current) return;
  const u = current.user;
  if (
    u.id === user.id &&
    u.email === user.email &&
    u.tenant_id === user.tenant_id &&
    u.roles.join('\n') === user.roles.join('\n')
  ) {
    return;
  }
  setSession({ ...current, user });
}

export function clearSession(): void {
  const had = current !== null;
  current = null;
  csrf = null;
  try {
    window.localStorage.removeItem(SESSION_KEY);
  } catch {
    // ignore
  }
  if (had) emit();
}

export function subscribeSession(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

// Other tabs signing in or out.
window.addEventListener('storage', (e) => {
  if (e.key !== null && e.key !== SESSION_KEY) return;
  current = read();
  // Another tab signed in or out: the cookie changed with it, so its CSRF value is stale.
  csrf = null;
  emit();
});

/** The current session, re-rendering on sign-in/sign-out (also from other tabs). */
export function useSession(): Session | null {
  return useSyncExternalStore(subscribeSession, () => current);
}
