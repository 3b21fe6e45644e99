// Which existing VMs may be queued for deletion (web-ui.md §2.7 "Delete Existing VMs"). Bots
// link to VMs by name (`bot.vm.name`). A VM is ALLOWED when its rule is on: its bot is banned,
// its bot is a bare `prepare` seed (no credentials, no proxy/license/subscription), or no bot
// links to it (orphan). Everything else is LOCKED, with what holds it as the reason.
// The rules and the view filter live in `settings/vmgenerator/deleteVms`.

import { useCallback, useEffect, useState } from 'react';
import { api, errorMessage } from '../../api/client';
import { botsApi, type Bot } from '../../api/bots';
import { licensesApi, proxiesApi, subscriptionsApi } from '../../api/resources';
import { S } from '../../strings';
import type { Vm } from '../../api/vmops';

const R = S.vms.del.reason;
const PATH = '/settings/vmgenerator/deleteVms';

export type RuleKey = 'banned' | 'prepare' | 'orphan';
export type ViewKey = 'allowed' | 'locked' | 'running' | 'stopped';
export interface DeleteSettings {
  rules: Record<RuleKey, boolean>;
  view: Record<ViewKey, boolean>;
}

export const DEFAULT_DELETE_SETTINGS: DeleteSettings = {
  rules: { banned: true, prepare: true, orphan: true },
  view: { allowed: true, locked: true, running: true, stopped: true },
};

/** The bots and the bot ids each resource kind links to. */
export interface Links {
  bots: Bot[];
  /** Resource kind ('proxies', …) per bot id. */
  resources: Map<string, (keyof typeof S.vms.del.resource)[]>;
}

export interface Candidate {
  vm: Vm;
  bot?: Bot;
  /** The rule that would allow it; undefined = locked whatever the rules. */
  rule?: RuleKey;
  reason: string;
}

export function classify(vm: Vm, links: Links): Candidate {
  const bot = links.bots.find((b) => b.vm?.name && b.vm.name === vm.name);
  if (!bot) return { vm, rule: 'orphan', reason: R.orphan };
  if (bot.status === 'banned') return { vm, bot, rule: 'banned', reason: R.banned };
  const credentials = !!(bot.account?.email || bot.account?.password);
  const linked = links.resources.get(bot.id) ?? [];
  if (bot.status === 'prepare' && !credentials && !linked.length) return { vm, bot, rule: 'prepare', reason: R.prepare };
  const holds = [
    R.status(bot.status ?? 'unknown'),
    ...(credentials ? [R.credentials] : []),
    ...linked.map((k) => R.linked(S.vms.del.resource[k])),
  ];
  return { vm, bot, reason: holds.join(', ') };
}

export const isAllowed = (c: Candidate, rules: DeleteSettings['rules']) => !!c.rule && rules[c.rule];

/** Bots and resource links, read once when the dialog opens. */
export function useLinks() {
  const [links, setLinks] = useState<Links | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    Promise.all([botsApi.all(), proxiesApi.all(), licensesApi.all(), subscriptionsApi.all()]).then(
      ([bots, proxies, licenses, subscriptions]) => {
        const resources: Links['resources'] = new Map();
        const link = (botId: string | null | undefined, kind: keyof typeof S.vms.del.resource) => {
          if (!botId) return;
          const list = resources.get(botId) ?? [];
          if (!list.includes(kind)) resources.set(botId, [...list, kind]);
        };
        proxies.forEach((p) => link(p.bot_id, 'proxies'));
        licenses.forEach((l) => l.bot_ids?.forEach((id) => link(id, 'licenses')));
        subscriptions.forEach((s) => link(s.bot_id, 'subscriptions'));
        if (live) setLinks({ bots, resources });
      },
      (e: unknown) => live && setError(errorMessage(e)),
    );
    return () => void (live = false);
  }, []);
  return { links, error };
}

/** The saved rules and view; `save` writes the whole document back. */
export function useDeleteSettings() {
  const [settings, setSettings] = useState<DeleteSettings>(DEFAULT_DELETE_SETTINGS);
  useEffect(() => {
    api.get<Partial<DeleteSettings> | null>(PATH).then(
      (s) =>
        setSettings({
          rules: { ...DEFAULT_DELETE_SETTINGS.rules, ...s?.rules },
          view: { ...DEFAULT_DELETE_SETTINGS.view, ...s?.view },
        }),
      () => undefined, // Unreadable: the defaults stand.
    );
  }, []);
  const save = useCallback(async (next: DeleteSettings) => {
    setSettings(next);
    await api.put(PATH, next);
  }, []);
  return { settings, save };
}
