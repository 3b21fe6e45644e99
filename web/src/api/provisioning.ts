// Unattend profiles and the answer-file preview (api-ops.md §8.1, §8.4; docs/api.md
// "Provisioning"), and a VM's setup progress followed as server-sent events.

import { useEffect, useState } from 'react';
import { API_BASE, api } from './client';
import { readSse } from './vmops';

export type NameMode = 'random' | 'fixed' | 'custom';
export type RemovalMode = 'fixed' | 'random' | 'mixed' | 'fixed_random';
export type VisualMode = 'default' | 'appearance' | 'performance' | 'custom' | 'custom_randomize';
export type IconMode = 'default' | 'custom' | 'custom_randomize';

/** The profile `config` of §8.1 (the server also keeps keys it does not know; the editor carries them along). */
export interface UnattendConfig {
  user: {
    nameMode: NameMode;
    customName?: string;
    customNameSuffix?: 'none' | 'random_digits' | 'sequential';
    displayName?: string;
    password?: string;
    group?: 'Administrators' | 'Users';
    autoLogonCount?: number;
  };
  computerName: { mode: NameMode; customName?: string };
  locale: {
    uiLanguage?: string;
    keyboardLayouts?: { language: string; layout: string }[];
    timeZone?: string;
    geoLocation?: number;
  };
  softwareRemoval: {
    mode: RemovalMode;
    fixedPackages?: string[];
    randomPool?: string[];
    neverRemove?: string[];
    randomCount?: { min: number; max: number };
  };
  capabilityRemoval: { mode: RemovalMode; fixedCapabilities?: string[]; randomPool?: string[] };
  visualEffects: { mode: VisualMode; effects?: Record<string, boolean> };
  desktopIcons: {
    mode: IconMode;
    icons?: Record<string, boolean>;
    startFolders?: Record<string, boolean>;
    deleteEdgeShortcut?: boolean;
  };
  customScript?: { executable?: string; delaySeconds?: number };
  windowsSettings: Record<string, boolean>;
  productKey?: string;
}

export interface UnattendProfile {
  id: string;
  name: string;
  is_default: boolean;
  config: UnattendConfig;
  created_at: string;
  updated_at: string;
}

export interface AnswerPreview {
  xml: string;
  computer_name: string;
  username: string;
}

export const EFFECT_KEYS = [
  'animateControls', 'animateMinMax', 'animateTaskbar', 'aeropeek', 'fontSmoothing', 'dragFullWindows',
  'listBoxSmoothScrolling', 'cursorShadow', 'thumbnailPreviews', 'translucent', 'iconShadow', 'saveThumbnails',
  'peekDesktop', 'windowShadow', 'fadeMenuItems', 'fadeTooltips', 'fadeAfterClick', 'comboBoxSlide',
] as const;
export const ICON_KEYS = ['thisPC', 'recycleBin', 'userFiles', 'controlPanel', 'network'] as const;
export const START_FOLDER_KEYS = [
  'documents', 'downloads', 'music', 'pictures', 'videos', 'personalFolder', 'settings', 'fileExplorer', 'network',
] as const;
/** The 12 `windowsSettings` flags; all default on except Remote Desktop. */
export const WINDOWS_FLAGS = [
  'disableDefender', 'disableWindowsUpdate', 'disableUac', 'disableSmartScreen', 'disableSystemRestore',
  'enableLongPaths', 'allowPowerShellScripts', 'disableWidgets', 'disableEdgeStartup', 'preventDeviceEncryption',
  'disableStickyKeys', 'enableRemoteDesktop',
] as const;

/** A new profile: the server's defaults written out, so the editor shows every value. */
export function defaultConfig(): UnattendConfig {
  return {
    user: { nameMode: 'random', customNameSuffix: 'none', group: 'Administrators', autoLogonCount: 9_999_999 },
    computerName: { mode: 'random' },
    locale: {
      uiLanguage: 'en-US',
      keyboardLayouts: [{ language: '0409', layout: '00000409' }],
      timeZone: 'Turkey Standard Time',
      geoLocation: 235,
    },
    softwareRemoval: { mode: 'fixed', fixedPackages: [], randomPool: [], neverRemove: [], randomCount: { min: 5, max: 15 } },
    capabilityRemoval: { mode: 'fixed', fixedCapabilities: [], randomPool: [] },
    visualEffects: { mode: 'performance', effects: {} },
    desktopIcons: { mode: 'default', icons: {}, startFolders: {}, deleteEdgeShortcut: true },
    customScript: { executable: 'START.ps1', delaySeconds: 20 },
    windowsSettings: Object.fromEntries(WINDOWS_FLAGS.map((f) => [f, f !== 'enableRemoteDesktop'])),
  };
}

export interface ProfileBody {
  name?: string;
  is_default?: boolean;
  config?: UnattendConfig;
}

export const unattendApi = {
  list: () => api.get<UnattendProfile[]>('/unattend-profiles'),
  create: (body: ProfileBody) => api.post<UnattendProfile>('/unattend-profiles', body),
  update: (id: string, body: ProfileBody) => api.put<UnattendProfile>(`/unattend-profiles/${encodeURIComponent(id)}`, body),
  remove: (id: string) => api.delete<{ deleted: boolean }>(`/unattend-profiles/${encodeURIComponent(id)}`),
  preview: (config: UnattendConfig, signal?: AbortSignal) =>
    api.post<AnswerPreview>('/unattend-profiles/preview', { config }, { signal }),
};

// Setup progress (api-ops.md §8.3 steps, in the order a VM goes through them).
export const SETUP_STEPS = ['windows_installed', 'downloader_ready', 'app_downloaded', 'playbook_running', 'completed'] as const;

export interface ProgressEvent {
  id: string;
  vm_uuid: string;
  step: string;
  status: 'pending' | 'running' | 'completed' | 'failed';
  details: Record<string, unknown>;
  created_at: string;
}

const RETRY_MS = 5_000;

/**
 * The setup steps a VM reported, following `progress/{vmUuid}/events` (stored steps first,
 * then live) while mounted; it reconnects after a drop and resumes after the last event.
 */
export function useSetupProgress(vmUuid: string | undefined): ProgressEvent[] {
  const [events, setEvents] = useState<ProgressEvent[]>([]);
  useEffect(() => {
    setEvents([]);
    if (!vmUuid) return;
    const ctl = new AbortController();
    let lastId = 0;
    const run = async () => {
      while (!ctl.signal.aborted) {
        try {
          const headers: Record<string, string> = { Accept: 'text/event-stream' };
          if (lastId) headers['Last-Event-ID'] = String(lastId);
          const res = await fetch(`${API_BASE}/provisioning/progress/${encodeURIComponent(vmUuid)}/events`, {
            headers,
            signal: ctl.signal,
            credentials: 'same-origin',
            cache: 'no-store',
          });
          if (!res.ok || !res.body) return; // 4xx: nothing this VM can show; no retry storm.
          await readSse(res.body, (f) => {
            if (f.event !== 'vm-setup-progress' || !f.data) return;
            lastId = Math.max(lastId, f.id);
            const e = JSON.parse(f.data) as ProgressEvent;
            setEvents((list) => [...list, e]);
          });
        } catch {
          // Dropped: retried below unless unmounted.
        }
        await new Promise((r) => window.setTimeout(r, RETRY_MS));
      }
    };
    void run();
    return () => ctl.abort();
  }, [vmUuid]);
  return events;
}
