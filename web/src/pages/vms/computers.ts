// The computer the VM generator works on (web-ui.md §2.7 "Computer strip"): an online agent
// and one of the Proxmox targets it reports (`proxmox.list-targets`). "Auto" follows the most
// recently seen online agent and its active target; a choice is remembered in this browser.

import { useCallback, useEffect, useMemo, useState } from 'react';
import { activeAgent, agentsApi, type Agent } from '../../api/agents';
import { errorMessage } from '../../api/client';
import { runCommand, type Target } from '../../api/vmops';
import { usePolling } from '../../hooks';

export interface Computer {
  agent: Agent;
  target: Target;
}

const CHOICE_KEY = 'botmox.vms.computer';
export const AUTO = 'auto';
const AGENTS_POLL_MS = 10_000;

export const computerKey = (agentId: string, targetId: string) => `${agentId}|${targetId}`;

function storedChoice(): string {
  try {
    return window.localStorage.getItem(CHOICE_KEY) ?? AUTO;
  } catch {
    return AUTO;
  }
}

export function useComputers() {
  const agents = usePolling(agentsApi.list, AGENTS_POLL_MS);
  const [choice, setChoice] = useState(storedChoice);
  const [targets, setTargets] = useState<Record<string, Target[]>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [loading, setLoading] = useState(false);

  const online = useMemo(() => (agents.data ?? []).filter((a) => a.online), [agents.data]);
  const onlineIds = online.map((a) => a.id).join(',');

  const refreshTargets = useCallback(() => {
    const ids = onlineIds ? onlineIds.split(',') : [];
    setLoading(true);
    void Promise.all(
      ids.map((id) =>
        runCommand<Target[]>(id, 'list-targets', {}).then(
          (list) => [id, list, null] as const,
          (e: unknown) => [id, [] as Target[], errorMessage(e)] as const,
        ),
      ),
    ).then((rows) => {
      setTargets(Object.fromEntries(rows.map(([id, list]) => [id, list])));
      setErrors(Object.fromEntries(rows.flatMap(([id, , e]) => (e ? [[id, e]] : []))));
      setLoading(false);
    });
  }, [onlineIds]);

  useEffect(refreshTargets, [refreshTargets]);

  const choose = (key: string) => {
    setChoice(key);
    try {
      window.localStorage.setItem(CHOICE_KEY, key);
    } catch {
      // Storage disabled: the choice lasts for this page view.
    }
  };

  const options: Computer[] = online.flatMap((agent) => (targets[agent.id] ?? []).map((target) => ({ agent, target })));
  let current: Computer | undefined;
  if (choice !== AUTO) current = options.find((c) => computerKey(c.agent.id, c.target.id) === choice);
  if (!current) {
    const agent = activeAgent(online);
    const list = agent ? targets[agent.id] ?? [] : [];
    const target = list.find((t) => t.isActive) ?? list[0];
    current = agent && target ? { agent, target } : undefined;
  }
  return {
    agentsLoaded: agents.data !== undefined,
    /** Paired agents, online or not. */
    paired: (agents.data ?? []).filter((a) => a.status !== 'pending' && a.status !== 'revoked'),
    online,
    options,
    choice,
    choose,
    current,
    errors,
    loading,
    refresh: () => {
      agents.refresh();
      refreshTargets();
    },
  };
}
