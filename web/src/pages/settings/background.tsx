// The custom background of web-ui.md §3: an image layer fixed under the whole
// shell with a color overlay (opacity = overlay + dim), from settings/theme
// `visual` and a theme asset. The same document's palettes, fonts and radii
// are applied here too, once per sign-in. Image URLs are signed for 300 s, so the asset
// list is asked for a fresh one whenever the background is (re)applied; the
// browser keeps the loaded image.

import { useEffect, useSyncExternalStore } from 'react';
import { normaliseLook, setThemeLook, useThemeLook, useThemeMode } from '../../theme';
import { settingsApi, themeAssetsApi, type Visual } from '../../api/settings';
import './background.css';

export const DEFAULT_VISUAL: Visual = {
  enabled: false,
  mode: 'none',
  backgroundAssetId: null,
  backgroundPosition: 'center',
  backgroundSize: 'cover',
  overlayOpacity: 0.35,
  blurPx: 0,
  dimStrength: 0.1,
};

interface BgState {
  visual: Visual;
  url: string | null;
}

let state: BgState = { visual: DEFAULT_VISUAL, url: null };
const listeners = new Set<() => void>();

function set(next: BgState) {
  state = next;
  for (const l of listeners) l();
}

export function normaliseVisual(v: unknown): Visual {
  const o = (v && typeof v === 'object' ? v : {}) as Partial<Visual>;
  const num = (x: unknown, lo: number, hi: number, d: number) =>
    typeof x === 'number' && Number.isFinite(x) ? Math.min(hi, Math.max(lo, x)) : d;
  return {
    ...DEFAULT_VISUAL,
    ...o,
    enabled: o.enabled === true,
    mode: o.mode === 'image' ? 'image' : 'none',
    backgroundAssetId: typeof o.backgroundAssetId === 'string' ? o.backgroundAssetId : null,
    backgroundPosition: o.backgroundPosition === 'top' ? 'top' : 'center',
    backgroundSize: o.backgroundSize === 'contain' || o.backgroundSize === 'auto' ? o.backgroundSize : 'cover',
    overlayOpacity: num(o.overlayOpacity, 0, 1, DEFAULT_VISUAL.overlayOpacity),
    blurPx: num(o.blurPx, 0, 24, DEFAULT_VISUAL.blurPx),
    dimStrength: num(o.dimStrength, 0, 1, DEFAULT_VISUAL.dimStrength),
  };
}

/** Shows `visual` now, with a fresh signed URL of its image. */
export async function applyVisual(visual: Visual): Promise<void> {
  let url: string | null = null;
  if (visual.enabled && visual.mode === 'image' && visual.backgroundAssetId) {
    const assets = await themeAssetsApi.list();
    url = assets.find((a) => a.id === visual.backgroundAssetId)?.image_url ?? null;
  }
  set({ visual, url });
}

export async function loadVisual(): Promise<Visual> {
  const theme = await settingsApi.get<{ visual?: unknown }>('theme');
  return normaliseVisual(theme?.visual);
}

export function useBackground(): BgState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

/** Mounted once inside the signed-in shell. */
export default function ThemeBackground() {
  const { visual, url } = useBackground();
  const mode = useThemeMode();
  const look = useThemeLook();

  useEffect(() => {
    settingsApi
      .get<{ visual?: unknown }>('theme')
      .then((doc) => {
        setThemeLook(normaliseLook(doc));
        return applyVisual(normaliseVisual(doc?.visual));
      })
      .catch(() => {
        // No stored theme is no problem: the default look stays.
      });
  }, []);

  const on = url !== null;
  useEffect(() => {
    const root = document.documentElement;
    if (on) root.setAttribute('data-bm-bg', 'on');
    else root.removeAttribute('data-bm-bg');
    return () => root.removeAttribute('data-bm-bg');
  }, [on]);

  if (!on) return null;
  const color =
    (mode === 'dark' ? visual.overlayColorDark : visual.overlayColorLight) ?? look.palettes[mode].surfaceBase;
  return (
    <div className="bm-bg" aria-hidden data-testid="theme-background">
      <div
        className="bm-bg-image"
        style={{
          backgroundImage: `url("${url}")`,
          backgroundPosition: visual.backgroundPosition === 'top' ? 'center top' : 'center',
          backgroundSize: visual.backgroundSize,
          filter: visual.blurPx ? `blur(${visual.blurPx}px)` : undefined,
          transform: visual.blurPx ? 'scale(1.02)' : undefined,
        }}
      />
      <div
        className="bm-bg-overlay"
        style={{ background: color, opacity: Math.min(1, visual.overlayOpacity + visual.dimStrength) }}
      />
    </div>
  );
}
