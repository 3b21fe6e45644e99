// The licenses, proxy and subscriptions linked to one bot.

import { useCallback } from 'react';
import { licensesApi, proxiesApi, subscriptionsApi, type License, type Proxy, type Subscription } from '../../api/resources';
import { usePolling } from '../../hooks';
import { RESOURCE_POLL_MS } from '../../models/resourceStats';

export interface BotResources {
  licenses: License[];
  proxies: Proxy[];
  subscriptions: Subscription[];
  /** Not linked to any bot: candidates for "Assign existing". */
  freeLicenses: License[];
  freeProxies: Proxy[];
  /** Every license type in use, for the type auto-complete of a new license. */
  licenseTypes: string[];
}

export function useBotResources(botId: string) {
  const load = useCallback(async (): Promise<BotResources> => {
    const [l, p, s] = await Promise.all([licensesApi.all(), proxiesApi.all(), subscriptionsApi.all()]);
    return {
      licenses: l.filter((x) => x.bot_ids?.includes(botId)),
      proxies: p.filter((x) => x.bot_id === botId),
      subscriptions: s.filter((x) => x.bot_id === botId),
      freeLicenses: l.filter((x) => !x.bot_ids?.length && x.status !== 'revoked'),
      freeProxies: p.filter((x) => !x.bot_id && x.status !== 'banned'),
      licenseTypes: [...new Set(l.map((x) => (x.type ?? '').trim()).filter(Boolean))].sort(),
    };
  }, [botId]);
  return usePolling(load, RESOURCE_POLL_MS);
}
