// Settings (api-domains.md §9, docs/api.md): the per-tenant tree by path, the
// typed documents, and theme assets (§10). Secret leaves come back masked.

import { api, apiRequest, ApiError } from './client';
import { S } from '../strings';

export const SECRET_MASK = '********';

/** Whether the server holds a secret (it answers the mask when set, '' when not). */
export const isMasked = (v: unknown) => typeof v === 'string' && v !== '';
/** What to send for a secret: the typed value, or the mask to keep the stored one. */
export const secretOut = (v: string | undefined, wasSet: boolean) => v ?? (wasSet ? SECRET_MASK : '');

export interface ApiKeys {
  ipqs?: { api_key?: string; enabled?: boolean };
  telegram?: { bot_token?: string; chat_id?: string; enabled?: boolean };
}

export interface Visual {
  enabled: boolean;
  mode: 'none' | 'image';
  backgroundAssetId: string | null;
  backgroundPosition: 'center' | 'top';
  backgroundSize: 'cover' | 'contain' | 'auto';
  overlayOpacity: number;
  blurPx: number;
  dimStrength: number;
  overlayColorLight?: string;
  overlayColorDark?: string;
}

export interface ThemeAsset {
  id: string;
  object_key: string;
  mime_type: string;
  size_bytes: number;
  width?: number | null;
  height?: number | null;
  status: string;
  image_url?: string | null;
  created_at: string;
}

interface Presigned {
  asset_id: string;
  upload_url: string;
}

const path = (p: string) => '/settings/' + p.split('/').map(encodeURIComponent).join('/');

export const settingsApi = {
  get: <T>(p: string) => api.get<T | null>(path(p)),
  /** Objects merge shallowly into the object at the path; answers the new value there. */
  put: <T>(p: string, body: unknown) => api.put<T>(path(p), body),
  /** Writes null at the path, which deletes it (older servers stored the null, so readers skip nulls). `DELETE /settings/{path}` removes a node outright. */
  clear: (p: string) => apiRequest<null>('PUT', path(p), { body: null }).then(() => undefined),
};

export const ASSET_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
export const ASSET_MAX_BYTES = 20 * 1024 * 1024;

async function dimensions(file: File): Promise<{ width?: number; height?: number }> {
  try {
    const bmp = await createImageBitmap(file);
    const d = { width: bmp.width, height: bmp.height };
    bmp.close();
    return d;
  } catch {
    return {};
  }
}

export const themeAssetsApi = {
  list: () => api.get<{ items: ThemeAsset[] }>('/theme-assets').then((r) => r.items ?? []),
  remove: (id: string) => api.delete<{ id: string }>(`/theme-assets/${encodeURIComponent(id)}`),
  /** presign → PUT the file to the signed URL → complete with its size in pixels. */
  async upload(file: File): Promise<ThemeAsset> {
    const p = await api.post<Presigned>('/theme-assets/presign-upload', {
      filename: file.name.slice(0, 255) || 'background',
      mime_type: file.type,
      size_bytes: file.size,
    });
    const res = await fetch(p.upload_url, { method: 'PUT', headers: { 'Content-Type': file.type }, body: file });
    if (!res.ok) {
      let msg = `${S.settingsPage.uploadFailed} (HTTP ${res.status})`;
      try {
        const body = (await res.json()) as { error?: { message?: string } };
        if (body.error?.message) msg = body.error.message;
      } catch {
        // Not JSON: keep the status line.
      }
      throw new ApiError('THEME_ASSET_UPLOAD_FAILED', msg, res.status);
    }
    return api.post<ThemeAsset>('/theme-assets/complete', { asset_id: p.asset_id, ...(await dimensions(file)) });
  },
};
