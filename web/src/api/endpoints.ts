// Typed calls of the endpoints the shell uses.

import { api, apiRequest } from './client';
import { clearSession, setCsrf, setSession, updateSessionUser, type Session, type SessionUser } from './session';
import { setStorageFull } from './storage';

export interface SetupStatus {
  needed: boolean;
}

/** A cookie session's grant: the token stays in the HttpOnly cookie, never in script. */
export interface AuthResult {
  expires_at: string | number | null;
  user: SessionUser;
  csrf_token: string;
}

export interface WhoAmI {
  uid: string;
  email: string;
  roles: string[];
  tenant_id: string;
  /** Present for the cookie session this page uses. */
  csrf_token?: string;
}

export interface Health {
  service: string;
  version: string;
  timestamp: string;
  data_backend: string;
  /** Object store backend ("fs", …); newer servers only. */
  object_store?: string;
  uptime_seconds: number;
  /** A bot silent for longer than this is offline. */
  bot_offline_after_ms: number;
}

export interface ReadinessCheck {
  required: boolean;
  ready: boolean;
  reason?: string | null;
}

export interface Readiness {
  status: 'ready' | 'not-ready' | string;
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
  timestamp: string;
}

/** How long a whoami answer vouches for the session before `authApi.verify` asks again. */
export const VERIFY_MAX_AGE_MS = 5 * 60 * 1000;
let lastVerifiedAt = 0;
/** Once the server said no setup is needed (or setup succeeded), that stays so:
 * the signed-out redirects then go straight to /login without asking again. */
let setupDone = false;

function toSession(r: AuthResult): Session {
  setCsrf(r.csrf_token);
  return { expires_at: r.expires_at ?? null, user: r.user };
}

export const authApi = {
  async setupStatus(): Promise<SetupStatus> {
    const s = await api.get<SetupStatus>('/auth/setup', { auth: false });
    if (!s.needed) setupDone = true;
    return s;
  },

  /** True when this page already knows that the first admin exists. */
  setupKnownDone: () => setupDone,

  /** A wrong token is a 401 of a public call: it throws (INVALID_SETUP_TOKEN)
   * and leaves any session and the current page alone. */
  async setup(token: string, email: string, password: string): Promise<Session> {
    const r = await api.post<AuthResult>('/auth/setup', { token, email, password, session: 'cookie' }, { auth: false });
    setupDone = true;
    const s = toSession(r);
    setSession(s);
    lastVerifiedAt = Date.now();
    return s;
  },

  /** `tenant` only when the server asked for it (TENANT_REQUIRED: the password opens accounts in several). */
  async login(email: string, password: string, tenant?: string): Promise<Session> {
    const r = await api.post<AuthResult>('/auth/login', { email, password, tenant, session: 'cookie' }, { auth: false });
    const s = toSession(r);
    setSession(s);
    lastVerifiedAt = Date.now();
    return s;
  },

  /** Ends the session on the server (best effort) and always locally. A 401
   * here (token already gone) is no reason for the global redirect. */
  async logout(): Promise<void> {
    try {
      await api.post<{ logged_out: boolean }>('/auth/logout', {}, { endSessionOn401: false });
    } catch {
      // The local session ends anyway.
    } finally {
      clearSession();
      lastVerifiedAt = 0;
    }
  },

  async whoami(): Promise<WhoAmI> {
    const w = await api.get<WhoAmI>('/auth/whoami');
    if (w.csrf_token) setCsrf(w.csrf_token);
    updateSessionUser({ id: w.uid, email: w.email, roles: w.roles, tenant_id: w.tenant_id });
    lastVerifiedAt = Date.now();
    return w;
  },

  /** whoami unless the session was checked less than 5 minutes ago. */
  async verify(): Promise<void> {
    if (Date.now() - lastVerifiedAt < VERIFY_MAX_AGE_MS) return;
    await authApi.whoami();
  },
};

export const healthApi = {
  health: () => api.get<Health>('/health'),
  /** Resolves for 200 and for 503 (not ready) alike: both carry a success envelope. */
  readiness: () =>
    apiRequest<Readiness>('GET', '/health/ready').then((r) => {
      const storage = r.data.checks.storage;
      if (storage) setStorageFull(!storage.ready);
      return r.data;
    }),
};
