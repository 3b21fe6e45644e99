// Display state of licenses, proxies and subscriptions (web-ui.md §2.4–2.6,
// api-domains.md §6.3): the server stores no expiry state.

import type { License, Proxy, Subscription } from '../api/resources';
import { daysLeft } from '../components/crud/cells';
import type { Tone } from '../components/crud/PageHeader';
import { S } from '../strings';

export type ResourceState = 'active' | 'expiring' | 'expired' | 'banned' | 'revoked' | 'cancelled';

export const STATE_TONE: Record<ResourceState, Tone> = {
  active: 'success',
  expiring: 'warning',
  expired: 'danger',
  banned: 'danger',
  revoked: 'danger',
  cancelled: 'muted',
};

export const STATE_COLOR: Record<ResourceState, string> = {
  active: 'success',
  expiring: 'warning',
  expired: 'error',
  banned: 'error',
  revoked: 'error',
  cancelled: 'default',
};

export const stateLabel = (s: ResourceState): string =>
  s === 'expiring' ? S.resourceState.expiringSoon : S.resourceState[s];

/** Worse states first, for sorting and "worst of". */
export const SEVERITY: Record<ResourceState, number> = {
  banned: 5,
  revoked: 4,
  expired: 3,
  expiring: 2,
  cancelled: 1,
  active: 0,
};

function byTime(expiresAt: number | undefined, warnDays: number, now: number): ResourceState {
  if (typeof expiresAt !== 'number') return 'active';
  if (expiresAt <= now) return 'expired';
  const d = daysLeft(expiresAt, now) ?? 0;
  return d <= warnDays ? 'expiring' : 'active';
}

export function licenseState(l: License, warnDays: number, now = Date.now()): ResourceState {
  if (l.status === 'revoked') return 'revoked';
  if (l.status === 'expired') return 'expired';
  return byTime(l.expires_at, warnDays, now);
}

export function proxyState(p: Proxy, warnDays: number, now = Date.now()): ResourceState {
  if (p.status === 'banned') return 'banned';
  if (p.status === 'expired') return 'expired';
  return byTime(p.expires_at, warnDays, now);
}

export function subscriptionState(s: Subscription, warnDays: number, now = Date.now()): ResourceState {
  const t = byTime(s.expires_at, warnDays, now);
  if (t === 'active' && s.status === 'cancelled') return 'cancelled';
  return t;
}

export function worst(states: ResourceState[]): ResourceState | undefined {
  return states.reduce<ResourceState | undefined>((w, s) => (w === undefined || SEVERITY[s] > SEVERITY[w] ? s : w), undefined);
}

export const proxyAddress = (p: Proxy) => `${p.ip ?? ''}:${p.port ?? ''}`;

/** Date at local 23:59:59.999 (how subscriptions store their day). */
export function endOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(23, 59, 59, 999);
  return d.getTime();
}
