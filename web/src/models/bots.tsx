// The bot screens' pieces on top of botStatus.ts (re-exported here): the
// status and presence badges, bot links, their filter options and the polled bot index.

import { useCallback } from 'react';
import { Link } from 'react-router';
import { Tooltip } from 'antd';
import { BOT_STATUSES, botsApi, type Bot, type BotStatus } from '../api/bots';
import { projectSettingsApi } from '../api/projects';
import { useLive } from '../hooks';
import { S } from '../strings';
import '../components/crud/crud.css';
import { PRESENCES, PRESENCE_COLORS, STATUS_COLORS, botLabel, prettifyId, type Presence } from '../botStatus';

export {
  ACTIVE_STATUSES,
  PRESENCES,
  activeCount,
  fleetCounts,
  STATUS_COLORS,
  botLabel,
  id8,
  presenceOf,
  prettifyId,
  projectList,
  storedStatus,
  type FleetCounts,
  type Presence,
  type Project,
} from '../botStatus';

export function StatusBadge({ status }: { status: BotStatus }) {
  return (
    <span className="bm-status-dot" style={{ ['--bm-dot' as string]: STATUS_COLORS[status] }} data-status={status}>
      {S.botStatus[status]}
    </span>
  );
}

/** Whether the bot reports: a hollow dot, so it never reads as a lifecycle status. */
export function PresenceBadge({ presence }: { presence: Presence }) {
  return (
    <span className="bm-presence" style={{ ['--bm-dot' as string]: PRESENCE_COLORS[presence] }} data-presence={presence}>
      {S.presence[presence]}
    </span>
  );
}

export const presenceOptions = () => PRESENCES.map((p) => ({ value: p, label: <PresenceBadge presence={p} /> }));

export function BotRef({ id, bot }: { id: string; bot: Bot | undefined }) {
  return (
    <Tooltip title={id}>
      <span>
        <Link to={`/bot/${encodeURIComponent(id)}`}>{botLabel(bot, id)}</Link>
      </span>
    </Tooltip>
  );
}

export function statusOptions(statuses: readonly BotStatus[] = BOT_STATUSES) {
  return statuses.map((s) => ({ value: s, label: <StatusBadge status={s} /> }));
}

/** Every bot of the tenant by id, refreshed in the background. */
export function useBotIndex() {
  const load = useCallback(() => botsApi.all().then((list) => new Map(list.map((b) => [b.id, b] as const))), []);
  // Every bot: re-read when the feed reports a bot change, not on a timer.
  return useLive(load, ['bots']);
}

export function useProjectSettings() {
  const load = useCallback(() => projectSettingsApi.projects(), []);
  return useLive(load, ['settings/projects']);
}

/** A project's name from settings, else its id prettified ("wow_tbc" → "Wow Tbc"). */
export function useProjectName(): (id: string) => string {
  const settings = useProjectSettings().data;
  return (id) => settings?.[id]?.name || prettifyId(id);
}
