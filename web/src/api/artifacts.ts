// Artifacts (api-ops.md §6): releases, assignments and the download audit, for admin/infra.
// An upload streams the raw file as the body through XMLHttpRequest, whose upload events
// give a real progress bar (fetch has none for request bodies).

import { S } from '../strings';
import { api, ApiError, API_BASE, sessionHeaders } from './client';
import { fetchListPage, type ListPage } from './lists';
import { clearSession } from './session';

export const RELEASE_STATUSES = ['draft', 'active', 'disabled', 'archived'] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

export interface Release {
  id: number;
  module: string;
  platform: string;
  channel: string;
  version: string;
  object_key: string;
  sha256: string;
  size_bytes: number;
  status: ReleaseStatus;
  created_by: string;
  updated_by: string;
  created_at: string;
  updated_at: string;
}

export interface Assignment {
  id: number;
  module: string;
  platform: string;
  channel: string;
  /** null = the tenant default. */
  user_id: string | null;
  release_id: number;
  is_default: boolean;
  updated_by: string;
  updated_at: string;
}

export interface AssignBody {
  user_id?: string;
  module: string;
  platform: string;
  channel: string;
  release_id: number;
}

export interface DownloadAuditRow {
  id: number;
  lease_id: string | null;
  user_id: string | null;
  vm_uuid: string | null;
  module: string | null;
  platform: string | null;
  channel: string | null;
  release_id: number | null;
  /** resolve_success, resolve_denied, download_served, download_denied. */
  event_type: string;
  /** allowed, denied, error. */
  result: string;
  reason: string | null;
  request_ip: string | null;
  created_at: number;
}

export interface UploadFields {
  module: string;
  platform: string;
  channel: string;
  version: string;
  status: ReleaseStatus;
}

/** WebCrypto hashes a buffer held whole in memory: past this the server's digest is used. */
export const HASH_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Lower-case hex SHA-256 of the file, or undefined where the browser cannot hash it (plain
 * HTTP has no WebCrypto; files over HASH_MAX_BYTES): the server then records its own digest.
 */
export async function sha256Hex(file: Blob): Promise<string | undefined> {
  if (!globalThis.crypto?.subtle || file.size > HASH_MAX_BYTES) return undefined;
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The envelope of an XHR answer: its data, or the ApiError it carries. */
function settle<T>(xhr: XMLHttpRequest): T {
  let payload: { success?: boolean; data?: T; error?: { code?: string; message?: string; details?: unknown } } | undefined;
  try {
    payload = JSON.parse(xhr.responseText);
  } catch {
    payload = undefined;
  }
  if (payload?.success === true) return payload.data as T;
  const e = payload?.error;
  throw new ApiError(e?.code ?? 'BAD_RESPONSE', e?.message || S.common.unexpectedResponse(xhr.status), xhr.status, e?.details);
}

/**
 * Uploads a release file; `onProgress` gets the fraction sent (0..1). The server hashes and
 * counts the bytes and refuses a mismatch with the declared size and digest.
 */
export function uploadRelease(
  fields: UploadFields,
  file: File,
  sha256: string | undefined,
  onProgress: (fraction: number) => void,
): { done: Promise<Release>; abort: () => void } {
  const q = new URLSearchParams({ ...fields, size_bytes: String(file.size) });
  if (sha256) q.set('sha256', sha256);
  const xhr = new XMLHttpRequest();
  let aborted = false;
  const done = sessionHeaders('POST').then(
    (extra) =>
      new Promise<Release>((resolve, reject) => {
        // Aborted while the CSRF value was being fetched: never start.
        if (aborted) return reject(new DOMException('aborted', 'AbortError'));
        xhr.open('POST', `${API_BASE}/artifacts/releases/upload?${q}`);
        for (const [name, value] of Object.entries(extra)) xhr.setRequestHeader(name, value);
        xhr.setRequestHeader('Content-Type', 'application/octet-stream');
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
        };
        xhr.onload = () => {
          if (xhr.status === 401) clearSession();
          try {
            resolve(settle<Release>(xhr));
          } catch (e) {
            reject(e);
          }
        };
        xhr.onerror = () => reject(new ApiError('NETWORK_ERROR', S.common.networkError, 0));
        xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
        xhr.send(file);
      }),
  );
  return {
    done,
    abort: () => {
      aborted = true;
      xhr.abort();
    },
  };
}

export const artifactsApi = {
  releases: () => api.get<Release[]>('/artifacts/releases'),
  setStatus: (id: number, status: ReleaseStatus) => api.patch<Release>(`/artifacts/releases/${id}`, { status }),
  assignments: () => api.get<Assignment[]>('/artifacts/assignments'),
  assign: (body: AssignBody) => api.post<Assignment>('/artifacts/assign', body),
  audit: (page: number, limit: number): Promise<ListPage<DownloadAuditRow>> =>
    fetchListPage<DownloadAuditRow>('/artifacts/download-audit', { page, limit }),
};
