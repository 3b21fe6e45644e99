// Theme: the default palettes of web-ui.md §3, the antd token mapping, and the
// dark/light mode (remembered per browser, following the OS until chosen).

import { useSyncExternalStore } from 'react';
import { theme as antdTheme, type ThemeConfig } from 'antd';

export type ThemeMode = 'dark' | 'light';

export interface Palette {
  surfaceBase: string;
  surfacePanel: string;
  surfaceMuted: string;
  brandPrimary: string;
  textPrimary: string;
  textSecondary: string;
  textMuted: string;
  borderDefault: string;
  headerBg: string;
  success: string;
  warning: string;
  danger: string;
  info: string;
}

export const PALETTES: Record<ThemeMode, Palette> = {
  dark: {
    surfaceBase: '#1e1f22',
    surfacePanel: '#2a2f35',
    surfaceMuted: '#31363d',
    brandPrimary: '#4a90d6',
    textPrimary: '#e6edf3',
    textSecondary: '#b9c3cd',
    textMuted: '#8e9aa6',
    borderDefault: '#3a424a',
    headerBg: '#1f2a33',
    success: '#2ecc71',
    warning: '#f39c12',
    danger: '#e74c3c',
    info: '#3498db',
  },
  light: {
    surfaceBase: '#f2f4f7',
    surfacePanel: '#ffffff',
    surfaceMuted: '#e9edf2',
    brandPrimary: '#3b7db8',
    textPrimary: '#26323b',
    textSecondary: '#4b5a66',
    textMuted: '#7b8793',
    borderDefault: '#d4dbe3',
    headerBg: '#2c3e50',
    success: '#2ecc71',
    warning: '#f39c12',
    danger: '#e74c3c',
    info: '#3498db',
  },
};

/** Header text colours: the header is dark slate in both modes. */
const HEADER_TEXT = '#e6edf3';
const HEADER_TEXT_MUTED = '#b9c3cd';

export const FONT_FAMILY =
  "Roboto, 'Segoe UI', 'Helvetica Neue', Arial, 'Noto Sans', 'Liberation Sans', sans-serif";
export const FONT_FAMILY_CONDENSED = "'Roboto Condensed', " + FONT_FAMILY;
export const FONT_FAMILY_MONO =
  "'Roboto Mono', 'SFMono-Regular', Consolas, 'Liberation Mono', Menlo, monospace";

export function antdThemeConfig(mode: ThemeMode): ThemeConfig {
  const p = PALETTES[mode];
  return {
    algorithm: mode === 'dark' ? antdTheme.darkAlgorithm : antdTheme.defaultAlgorithm,
    cssVar: false,
    hashed: true,
    token: {
      colorPrimary: p.brandPrimary,
      colorInfo: p.info,
      colorSuccess: p.success,
      colorWarning: p.warning,
      colorError: p.danger,
      colorLink: p.brandPrimary,
      colorBgBase: p.surfaceBase,
      colorBgLayout: p.surfaceBase,
      colorBgContainer: p.surfacePanel,
      colorBgElevated: p.surfacePanel,
      colorFillAlter: p.surfaceMuted,
      colorTextBase: p.textPrimary,
      colorText: p.textPrimary,
      colorTextSecondary: p.textSecondary,
      colorTextTertiary: p.textMuted,
      colorTextDescription: p.textMuted,
      colorBorder: p.borderDefault,
      colorBorderSecondary: p.borderDefault,
      colorSplit: p.borderDefault,
      fontFamily: FONT_FAMILY,
      fontFamilyCode: FONT_FAMILY_MONO,
      fontSize: 13,
      borderRadiusXS: 2,
      borderRadiusSM: 2,
      borderRadius: 4,
      borderRadiusLG: 6,
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
        nodeSelectedBg: mode === 'dark' ? '#233447' : '#dbe7f3',
        nodeHoverBg: p.surfaceMuted,
      },
      Breadcrumb: {
        itemColor: HEADER_TEXT_MUTED,
        lastItemColor: HEADER_TEXT,
        linkColor: HEADER_TEXT_MUTED,
        linkHoverColor: HEADER_TEXT,
        separatorColor: HEADER_TEXT_MUTED,
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
const listeners = new Set<() => void>();

/** Puts the mode on <html data-theme> and exposes the palette as CSS variables. */
export function applyThemeToDocument(m: ThemeMode = mode): void {
  const root = document.documentElement;
  root.setAttribute('data-theme', m);
  root.style.colorScheme = m;
  const p = PALETTES[m];
  const vars: Record<string, string> = {
    '--bm-surface-base': p.surfaceBase,
    '--bm-surface-panel': p.surfacePanel,
    '--bm-surface-muted': p.surfaceMuted,
    '--bm-primary': p.brandPrimary,
    '--bm-text': p.textPrimary,
    '--bm-text-secondary': p.textSecondary,
    '--bm-text-muted': p.textMuted,
    '--bm-border': p.borderDefault,
    '--bm-header-bg': p.headerBg,
    '--bm-header-text': HEADER_TEXT,
    '--bm-header-text-muted': HEADER_TEXT_MUTED,
    '--bm-success': p.success,
    '--bm-warning': p.warning,
    '--bm-danger': p.danger,
    '--bm-info': p.info,
    '--bm-font': FONT_FAMILY,
    '--bm-font-condensed': FONT_FAMILY_CONDENSED,
    '--bm-font-mono': FONT_FAMILY_MONO,
  };
  for (const [k, v] of Object.entries(vars)) root.style.setProperty(k, v);
}

function setModeInternal(m: ThemeMode) {
  if (m === mode) return;
  mode = m;
  applyThemeToDocument(m);
  for (const l of listeners) l();
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
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => mode,
  );
}
