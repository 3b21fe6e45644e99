// Theme: the default palettes of web-ui.md §3, the look the user edits
// (palettes, fonts, radii from settings/theme), its antd token mapping and CSS
// variables, and the dark/light mode (remembered per browser, following the
// OS until chosen). Mode and look share one store so both re-render the app.

import { useSyncExternalStore } from 'react';
import { theme as antdTheme, type ThemeConfig } from 'antd';

export type ThemeMode = 'dark' | 'light';

/** The 28 color tokens of one mode (web-ui.md §2.13, theme editor). */
export interface Palette {
  surfaceBase: string;
  surfacePanel: string;
  surfaceMuted: string;
  surfaceHover: string;
  surfaceActive: string;
  brandPrimary: string;
  brandPrimaryHover: string;
  brandSoft: string;
  brandContrast: string;
  brandWarning: string;
  textPrimary: string;
  textSecondary: string;
  textMuted: string;
  textStrong: string;
  success: string;
  neutral: string;
  warning: string;
  danger: string;
  info: string;
  paused: string;
  borderDefault: string;
  borderSubtle: string;
  borderStrong: string;
  headerBg: string;
  headerBorder: string;
  headerText: string;
  headerTextMuted: string;
  headerHover: string;
}

export type PaletteToken = keyof Palette;

/** Editor groups, in the order the reference lists them. */
export const PALETTE_GROUPS: { group: 'surface' | 'brand' | 'text' | 'status' | 'border' | 'header'; tokens: PaletteToken[] }[] = [
  { group: 'surface', tokens: ['surfaceBase', 'surfacePanel', 'surfaceMuted', 'surfaceHover', 'surfaceActive'] },
  { group: 'brand', tokens: ['brandPrimary', 'brandPrimaryHover', 'brandSoft', 'brandContrast', 'brandWarning'] },
  { group: 'text', tokens: ['textPrimary', 'textSecondary', 'textMuted', 'textStrong'] },
  { group: 'status', tokens: ['success', 'neutral', 'warning', 'danger', 'info', 'paused'] },
  { group: 'border', tokens: ['borderDefault', 'borderSubtle', 'borderStrong'] },
  { group: 'header', tokens: ['headerBg', 'headerBorder', 'headerText', 'headerTextMuted', 'headerHover'] },
];

/**
 * Defaults of web-ui.md §3, tokens the spec leaves open derived from them, adjusted so text in
 * every status color, muted text and links reads at WCAG AA (4.5:1) on the panel and muted
 * surfaces of their mode; in the dark mode the primary is light, so text on it is dark.
 */
export const PALETTES: Record<ThemeMode, Palette> = {
  dark: {
    surfaceBase: '#1e1f22',
    surfacePanel: '#2a2f35',
    surfaceMuted: '#31363d',
    surfaceHover: '#353b43',
    surfaceActive: '#233447',
    brandPrimary: '#8cc0f5',
    brandPrimaryHover: '#a6cff7',
    brandSoft: '#1f3347',
    brandContrast: '#0d1b2a',
    brandWarning: '#e0a84b',
    textPrimary: '#e6edf3',
    textSecondary: '#b9c3cd',
    textMuted: '#9aa6b2',
    textStrong: '#ffffff',
    success: '#2ecc71',
    neutral: '#9aa6b2',
    warning: '#f39c12',
    danger: '#ff9d90',
    info: '#5dade2',
    paused: '#c39bd3',
    borderDefault: '#3a424a',
    borderSubtle: '#30373e',
    borderStrong: '#4b555f',
    headerBg: '#1f2a33',
    headerBorder: '#2b3a47',
    headerText: '#e6edf3',
    headerTextMuted: '#b9c3cd',
    headerHover: '#2b3a47',
  },
  light: {
    surfaceBase: '#f2f4f7',
    surfacePanel: '#ffffff',
    surfaceMuted: '#e9edf2',
    surfaceHover: '#e3e8ee',
    surfaceActive: '#dbe7f3',
    brandPrimary: '#2f6da6',
    brandPrimaryHover: '#3b7db8',
    brandSoft: '#e3eef8',
    brandContrast: '#ffffff',
    brandWarning: '#a14a00',
    textPrimary: '#26323b',
    textSecondary: '#4b5a66',
    textMuted: '#5c6873',
    textStrong: '#111a21',
    success: '#197a43',
    neutral: '#5c6873',
    warning: '#985200',
    danger: '#b03a2e',
    info: '#1f6fa8',
    paused: '#7d3c98',
    borderDefault: '#d4dbe3',
    borderSubtle: '#e3e8ee',
    borderStrong: '#b8c2cc',
    headerBg: '#2c3e50',
    headerBorder: '#243342',
    headerText: '#e6edf3',
    headerTextMuted: '#b9c3cd',
    headerHover: '#34495e',
  },
};

export const FONT_FAMILY =
  "Roboto, 'Segoe UI', 'Helvetica Neue', Arial, 'Noto Sans', 'Liberation Sans', sans-serif";
export const FONT_FAMILY_CONDENSED = "'Roboto Condensed', " + FONT_FAMILY;
export const FONT_FAMILY_MONO =
  "'Roboto Mono', 'SFMono-Regular', Consolas, 'Liberation Mono', Menlo, monospace";

export interface Typography {
  fontPrimary: string;
  fontCondensed: string;
  fontMono: string;
}

/** Corner radii in px, 0–24 each. */
export interface Shape {
  radiusNone: number;
  radiusSm: number;
  radiusMd: number;
  radiusLg: number;
}

/** Everything of settings/theme that styles the app, except the visual background. */
export interface ThemeLook {
  palettes: Record<ThemeMode, Palette>;
  typography: Typography;
  shape: Shape;
}

export const DEFAULT_LOOK: ThemeLook = {
  palettes: PALETTES,
  typography: { fontPrimary: FONT_FAMILY, fontCondensed: FONT_FAMILY_CONDENSED, fontMono: FONT_FAMILY_MONO },
  shape: { radiusNone: 0, radiusSm: 2, radiusMd: 4, radiusLg: 6 },
};

const HEX = /^#[0-9a-f]{6}$/i;

/** A stored palette over the defaults: unknown keys and non-colors are dropped. */
export function normalisePalette(v: unknown, mode: ThemeMode): Palette {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const out = { ...PALETTES[mode] };
  for (const k of Object.keys(out) as PaletteToken[]) {
    const c = o[k];
    if (typeof c === 'string' && HEX.test(c)) out[k] = c.toLowerCase();
  }
  return out;
}

/** The look stored in settings/theme (`palettes`, `typography`, `shape`), defaults filled in. */
export function normaliseLook(doc: unknown): ThemeLook {
  const d = (doc && typeof doc === 'object' ? doc : {}) as Record<string, Record<string, unknown> | undefined>;
  const text = (x: unknown, dflt: string) => (typeof x === 'string' && x.trim() ? x.trim().slice(0, 300) : dflt);
  const px = (x: unknown, dflt: number) => (typeof x === 'number' && Number.isFinite(x) ? Math.min(24, Math.max(0, Math.round(x))) : dflt);
  const t = d.typography ?? {};
  const sh = d.shape ?? {};
  const D = DEFAULT_LOOK;
  return {
    palettes: { dark: normalisePalette(d.palettes?.dark, 'dark'), light: normalisePalette(d.palettes?.light, 'light') },
    typography: {
      fontPrimary: text(t.fontPrimary, D.typography.fontPrimary),
      fontCondensed: text(t.fontCondensed, D.typography.fontCondensed),
      fontMono: text(t.fontMono, D.typography.fontMono),
    },
    shape: {
      radiusNone: px(sh.radiusNone, D.shape.radiusNone),
      radiusSm: px(sh.radiusSm, D.shape.radiusSm),
      radiusMd: px(sh.radiusMd, D.shape.radiusMd),
      radiusLg: px(sh.radiusLg, D.shape.radiusLg),
    },
  };
}

/** `a` blended into `b`: `weight` of `a` (0–1), both #rrggbb. */
function mix(a: string, b: string, weight: number): string {
  const ch = (hex: string, i: number) => parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);
  const out = [0, 1, 2].map((i) => Math.round(ch(a, i) * weight + ch(b, i) * (1 - weight)));
  return '#' + out.map((v) => v.toString(16).padStart(2, '0')).join('');
}

export function antdThemeConfig(mode: ThemeMode, look: ThemeLook = DEFAULT_LOOK): ThemeConfig {
  const p = look.palettes[mode];
  const { typography: f, shape } = look;
  // Status tags and alerts: a faint tint of the status on the panel, so the status color
  // itself stays readable as text on it (the algorithms' own tints are greyer and darker).
  const tint = (c: string) => mix(c, p.surfacePanel, 0.07);
  const edge = (c: string) => mix(c, p.surfacePanel, 0.35);
  return {
    algorithm: mode === 'dark' ? antdTheme.darkAlgorithm : antdTheme.defaultAlgorithm,
    cssVar: false,
    hashed: true,
    token: {
      colorPrimary: p.brandPrimary,
      colorPrimaryHover: p.brandPrimaryHover,
      colorPrimaryBg: p.brandSoft,
      colorTextLightSolid: p.brandContrast,
      colorInfo: p.info,
      colorSuccess: p.success,
      colorWarning: p.warning,
      colorError: p.danger,
      // The algorithms darken these in the dark mode; text must keep the palette's contrast.
      colorSuccessText: p.success,
      colorWarningText: p.warning,
      colorErrorText: p.danger,
      colorInfoText: p.info,
      colorSuccessBg: tint(p.success),
      colorWarningBg: tint(p.warning),
      colorErrorBg: tint(p.danger),
      colorInfoBg: tint(p.info),
      colorSuccessBorder: edge(p.success),
      colorWarningBorder: edge(p.warning),
      colorErrorBorder: edge(p.danger),
      colorInfoBorder: edge(p.info),
      colorLink: p.brandPrimary,
      colorLinkHover: p.brandPrimaryHover,
      colorBgBase: p.surfaceBase,
      colorBgLayout: p.surfaceBase,
      colorBgContainer: p.surfacePanel,
      colorBgElevated: p.surfacePanel,
      colorFillAlter: p.surfaceMuted,
      controlItemBgHover: p.surfaceHover,
      controlItemBgActive: p.surfaceActive,
      colorTextBase: p.textPrimary,
      colorText: p.textPrimary,
      colorTextHeading: p.textStrong,
      colorTextSecondary: p.textSecondary,
      colorTextTertiary: p.textMuted,
      colorTextDescription: p.textMuted,
      colorBorder: p.borderDefault,
      colorBorderSecondary: p.borderSubtle,
      colorSplit: p.borderSubtle,
      fontFamily: f.fontPrimary,
      fontFamilyCode: f.fontMono,
      fontSize: 13,
      borderRadiusXS: shape.radiusSm,
      borderRadiusSM: shape.radiusSm,
      borderRadius: shape.radiusMd,
      borderRadiusLG: shape.radiusLg,
      controlHeight: 30,
      wireframe: false,
    },
    components: {
      Layout: {
        headerBg: p.headerBg,
        headerHeight: 40,
        headerPadding: '0 12px',
        siderBg: p.surfacePanel,
        bodyBg: p.surfaceBase,
      },
      Card: {
        headerFontSize: 13,
        headerHeight: 40,
        bodyPadding: 12,
        headerPadding: 12,
      },
      Tree: {
        titleHeight: 26,
        nodeSelectedBg: p.surfaceActive,
        nodeHoverBg: p.surfaceHover,
      },
      Breadcrumb: {
        itemColor: p.headerTextMuted,
        lastItemColor: p.headerText,
        linkColor: p.headerTextMuted,
        linkHoverColor: p.headerText,
        separatorColor: p.headerTextMuted,
      },
      // Status tags draw their text in the status color itself, not the algorithm's darker one.
      Tag: {
        colorSuccess: p.success,
        colorWarning: p.warning,
        colorError: p.danger,
        colorInfo: p.info,
      },
      Table: {
        // The sorted column's header keeps muted text readable.
        headerSortActiveBg: p.surfaceHover,
        headerSortHoverBg: p.surfaceHover,
      },
      Descriptions: {
        itemPaddingBottom: 6,
      },
      Tabs: {
        horizontalMargin: '0',
      },
    },
  };
}

// ---- mode store -----------------------------------------------------------

export const THEME_KEY = 'botmox.theme';

const media =
  typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;

function storedMode(): ThemeMode | null {
  try {
    const v = window.localStorage.getItem(THEME_KEY);
    return v === 'dark' || v === 'light' ? v : null;
  } catch {
    return null;
  }
}

function osMode(): ThemeMode {
  return media && !media.matches ? 'light' : 'dark';
}

let mode: ThemeMode = storedMode() ?? osMode();
let look: ThemeLook = DEFAULT_LOOK;
const listeners = new Set<() => void>();

const notify = () => {
  for (const l of listeners) l();
};
const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
};

/** Puts the mode on <html data-theme> and exposes the palette, fonts and radii as CSS variables. */
export function applyThemeToDocument(m: ThemeMode = mode): void {
  const root = document.documentElement;
  root.setAttribute('data-theme', m);
  root.style.colorScheme = m;
  const p = look.palettes[m];
  const { typography: f, shape } = look;
  const vars: Record<string, string> = {
    '--bm-surface-base': p.surfaceBase,
    '--bm-surface-panel': p.surfacePanel,
    '--bm-surface-muted': p.surfaceMuted,
    '--bm-surface-hover': p.surfaceHover,
    '--bm-surface-active': p.surfaceActive,
    '--bm-primary': p.brandPrimary,
    '--bm-primary-hover': p.brandPrimaryHover,
    '--bm-primary-soft': p.brandSoft,
    '--bm-primary-contrast': p.brandContrast,
    '--bm-brand-warning': p.brandWarning,
    '--bm-text': p.textPrimary,
    '--bm-text-secondary': p.textSecondary,
    '--bm-text-muted': p.textMuted,
    '--bm-text-strong': p.textStrong,
    '--bm-border': p.borderDefault,
    '--bm-border-subtle': p.borderSubtle,
    '--bm-border-strong': p.borderStrong,
    '--bm-header-bg': p.headerBg,
    '--bm-header-border': p.headerBorder,
    '--bm-header-text': p.headerText,
    '--bm-header-text-muted': p.headerTextMuted,
    '--bm-header-hover': p.headerHover,
    '--bm-success': p.success,
    '--bm-neutral': p.neutral,
    '--bm-warning': p.warning,
    '--bm-danger': p.danger,
    '--bm-info': p.info,
    '--bm-paused': p.paused,
    '--bm-font': f.fontPrimary,
    '--bm-font-condensed': f.fontCondensed,
    '--bm-font-mono': f.fontMono,
    '--bm-radius-none': `${shape.radiusNone}px`,
    '--bm-radius-sm': `${shape.radiusSm}px`,
    '--bm-radius-md': `${shape.radiusMd}px`,
    '--bm-radius-lg': `${shape.radiusLg}px`,
  };
  for (const [k, v] of Object.entries(vars)) root.style.setProperty(k, v);
}

function setModeInternal(m: ThemeMode) {
  if (m === mode) return;
  mode = m;
  applyThemeToDocument(m);
  notify();
}

/** Applies palettes, fonts and radii to the whole app at once (antd tokens and CSS variables). */
export function setThemeLook(l: ThemeLook): void {
  look = l;
  applyThemeToDocument();
  notify();
}

/** Chosen in the header: remembered from now on. */
export function setThemeMode(m: ThemeMode): void {
  try {
    window.localStorage.setItem(THEME_KEY, m);
  } catch {
    // ignore
  }
  setModeInternal(m);
}

// Until the user picks a mode, follow the OS (also when it changes).
media?.addEventListener('change', () => {
  if (storedMode() === null) setModeInternal(osMode());
});

window.addEventListener('storage', (e) => {
  if (e.key === THEME_KEY || e.key === null) setModeInternal(storedMode() ?? osMode());
});

export function useThemeMode(): ThemeMode {
  return useSyncExternalStore(subscribe, () => mode);
}

export function useThemeLook(): ThemeLook {
  return useSyncExternalStore(subscribe, () => look);
}
