// Options of the Character form (web-ui.md §2.3): servers, factions, races and
// classes from settings/projects/<project>/referenceData, and where a project
// has none, the factions, races and classes of World of Warcraft (The Burning
// Crusade) built in. Ids are the lower-case values stored on bots.

import { settingsApi } from '../../api/settings';

export interface RefOption {
  id: string;
  name: string;
}

export interface CharacterReference {
  /** "Name (Region)" labels; empty = the server is free text. */
  servers: { name: string; region?: string }[];
  factions: RefOption[];
  races: (RefOption & { faction: string })[];
  /** `races` empty = every race may take the class. */
  classes: (RefOption & { races: string[] })[];
}

const ALLIANCE = ['human', 'dwarf', 'night_elf', 'gnome', 'draenei'];
const HORDE = ['orc', 'undead', 'tauren', 'troll', 'blood_elf'];
const title = (id: string) => id.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join(' ');

/** Race restrictions of the classes as of The Burning Crusade. */
const CLASS_RACES: Record<string, string[]> = {
  warrior: [...ALLIANCE, 'orc', 'undead', 'tauren', 'troll'],
  paladin: ['human', 'dwarf', 'draenei', 'blood_elf'],
  hunter: ['dwarf', 'night_elf', 'draenei', 'orc', 'tauren', 'troll', 'blood_elf'],
  rogue: ['human', 'dwarf', 'night_elf', 'gnome', 'orc', 'undead', 'troll', 'blood_elf'],
  priest: ['human', 'dwarf', 'night_elf', 'draenei', 'undead', 'troll', 'blood_elf'],
  shaman: ['draenei', 'orc', 'tauren', 'troll'],
  mage: ['human', 'gnome', 'draenei', 'undead', 'troll', 'blood_elf'],
  warlock: ['human', 'gnome', 'orc', 'undead', 'blood_elf'],
  druid: ['night_elf', 'tauren'],
};

export const WOW_REFERENCE: CharacterReference = {
  servers: [],
  factions: [
    { id: 'alliance', name: 'Alliance' },
    { id: 'horde', name: 'Horde' },
  ],
  races: [...ALLIANCE.map((id) => ({ id, name: title(id), faction: 'alliance' })), ...HORDE.map((id) => ({ id, name: title(id), faction: 'horde' }))],
  classes: Object.entries(CLASS_RACES).map(([id, races]) => ({ id, name: title(id), races })),
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** An option from a string or `{id, name}`; null when neither. */
function option(v: unknown): RefOption | null {
  if (typeof v === 'string') return str(v) ? { id: v.trim().toLowerCase(), name: v.trim() } : null;
  const o = v as { id?: unknown; name?: unknown } | null;
  const id = str(o?.id) ?? str(o?.name)?.toLowerCase();
  return id ? { id, name: str(o?.name) ?? title(id) } : null;
}

/** The stored referenceData read leniently; each list it lacks comes from the built-in one. */
export function referenceOf(doc: unknown): CharacterReference {
  const d = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const list = (k: string) => (Array.isArray(d[k]) ? (d[k] as unknown[]) : []);
  const servers = list('servers').flatMap((v) => {
    const name = typeof v === 'string' ? str(v) : str((v as { name?: unknown } | null)?.name);
    return name ? [{ name, region: str((v as { region?: unknown } | null)?.region) }] : [];
  });
  const factions = list('factions').flatMap((v) => option(v) ?? []);
  const races = list('races').flatMap((v) => {
    const o = option(v);
    const faction = str((v as { faction?: unknown } | null)?.faction)?.toLowerCase();
    return o && faction ? [{ ...o, faction }] : [];
  });
  const classes = list('classes').flatMap((v) => {
    const o = option(v);
    const r = (v as { races?: unknown } | null)?.races;
    return o ? [{ ...o, races: Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [] }] : [];
  });
  return {
    servers,
    factions: factions.length ? factions : WOW_REFERENCE.factions,
    races: races.length ? races : WOW_REFERENCE.races,
    classes: classes.length ? classes : WOW_REFERENCE.classes,
  };
}

export const loadReference = (projectId: string | undefined): Promise<CharacterReference> =>
  projectId ? settingsApi.get<unknown>(`projects/${projectId}/referenceData`).then(referenceOf) : Promise.resolve(referenceOf(null));
