// settings/theme as the theme editor reads and writes it (api-domains.md
// §9.2): the look (palettes, typography, shape) and saved palette presets
// `presets/{id}` = {name, palettes}. Deleting a preset writes null, which
// removes it; a null stored by an older server is skipped on read.

import { normaliseLook, normalisePalette, type Palette, type ThemeLook, type ThemeMode } from '../../theme';
import { settingsApi } from '../../api/settings';

export interface ThemePreset {
  id: string;
  name: string;
  palettes: Record<ThemeMode, Palette>;
}

export interface ThemeDoc {
  look: ThemeLook;
  presets: ThemePreset[];
  activePresetId: string | null;
}

interface StoredTheme {
  presets?: Record<string, { name?: unknown; palettes?: { dark?: unknown; light?: unknown } } | null>;
  active_preset_id?: unknown;
}

export async function loadThemeDoc(): Promise<ThemeDoc> {
  const doc = await settingsApi.get<StoredTheme>('theme');
  const presets = Object.entries(doc?.presets ?? {})
    .flatMap(([id, p]) =>
      p && typeof p.name === 'string'
        ? [{ id, name: p.name, palettes: { dark: normalisePalette(p.palettes?.dark, 'dark'), light: normalisePalette(p.palettes?.light, 'light') } }]
        : [],
    )
    .sort((a, b) => a.name.localeCompare(b.name));
  const active = typeof doc?.active_preset_id === 'string' ? doc.active_preset_id : null;
  return { look: normaliseLook(doc), presets, activePresetId: active };
}

/** PUT merges shallowly, so each top-level key sent replaces its stored value whole. */
export const themeDocApi = {
  saveLook: (look: ThemeLook, activePresetId: string | null) =>
    settingsApi.put('theme', { ...look, active_preset_id: activePresetId, updated_at: Date.now() }),
  savePreset: (name: string, palettes: Record<ThemeMode, Palette>): Promise<ThemePreset> => {
    const id = `t${Date.now().toString(36)}`;
    return settingsApi
      .put(`theme/presets/${id}`, { name, palettes, created_at: Date.now() })
      .then(() => ({ id, name, palettes }));
  },
  deletePreset: (id: string) => settingsApi.clear(`theme/presets/${id}`),
};
