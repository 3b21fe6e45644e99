// Account-generator presets (web-ui.md §2.3): named templates of the e-mail
// domain and password options, a default one and the last used settings,
// under settings/generators/account; and the per-bot browser backup of the
// e-mail and password taken before a generation replaces them.

import { settingsApi } from '../../api/settings';
import { DEFAULT_PASSWORD, EMAIL_DOMAINS, type PasswordOptions } from './generators';

export interface AccountGenSettings {
  domain: string;
  password: PasswordOptions;
}

export interface AccountTemplate extends AccountGenSettings {
  id: string;
  name: string;
}

export interface AccountPresets {
  templates: AccountTemplate[];
  defaultTemplateId: string | null;
  lastSettings: AccountGenSettings | null;
}

export const DEFAULT_GEN: AccountGenSettings = { domain: EMAIL_DOMAINS[0], password: DEFAULT_PASSWORD };

const BASE = 'generators/account';

function settingsOf(v: unknown): AccountGenSettings | null {
  const o = v as Partial<AccountGenSettings> | null;
  if (!o || typeof o !== 'object' || typeof o.domain !== 'string') return null;
  const p = (o.password ?? {}) as Partial<PasswordOptions>;
  const length = typeof p.length === 'number' ? Math.min(32, Math.max(8, Math.round(p.length))) : DEFAULT_PASSWORD.length;
  const flag = (k: 'upper' | 'lower' | 'digits' | 'symbols') => (typeof p[k] === 'boolean' ? p[k] : DEFAULT_PASSWORD[k]);
  return { domain: o.domain, password: { length, upper: flag('upper'), lower: flag('lower'), digits: flag('digits'), symbols: flag('symbols') } };
}

export async function loadAccountPresets(): Promise<AccountPresets> {
  const doc = await settingsApi.get<{ templates?: Record<string, unknown>; defaultTemplateId?: unknown; lastSettings?: unknown }>(BASE);
  // Deleting writes null, which removes the entry; nulls stored by older servers are skipped.
  const templates = Object.entries(doc?.templates ?? {}).flatMap(([id, t]) => {
    const s = settingsOf(t);
    const name = (t as { name?: unknown } | null)?.name;
    return s && typeof name === 'string' ? [{ id, name, ...s }] : [];
  });
  const def = typeof doc?.defaultTemplateId === 'string' && templates.some((t) => t.id === doc.defaultTemplateId) ? doc.defaultTemplateId : null;
  return { templates, defaultTemplateId: def, lastSettings: settingsOf(doc?.lastSettings) };
}

export const accountPresetsApi = {
  saveTemplate: (name: string, s: AccountGenSettings) => {
    const id = `t${Date.now().toString(36)}`;
    return settingsApi.put(`${BASE}/templates/${id}`, { name, ...s, created_at: Date.now() }).then(() => id);
  },
  deleteTemplate: (id: string) => settingsApi.clear(`${BASE}/templates/${id}`),
  setDefault: (id: string) => settingsApi.put(`${BASE}/defaultTemplateId`, id),
  saveLast: (s: AccountGenSettings) => settingsApi.put(`${BASE}/lastSettings`, s),
};

export interface AccountBackup {
  email: string;
  password: string;
}

const backupKey = (botId: string) => `botmox.accountBackup.${botId}`;

export function readBackup(botId: string): AccountBackup | null {
  try {
    const v = JSON.parse(localStorage.getItem(backupKey(botId)) ?? 'null') as AccountBackup | null;
    return v && typeof v.email === 'string' && typeof v.password === 'string' ? v : null;
  } catch {
    return null;
  }
}

export function writeBackup(botId: string, b: AccountBackup): void {
  try {
    localStorage.setItem(backupKey(botId), JSON.stringify(b));
  } catch {
    // Storage full or disabled: generation still works, only without undo.
  }
}
