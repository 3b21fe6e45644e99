// Formatting helpers (European formats, web-ui.md §1.7).

export const DAY_MS = 86_400_000;

function pad(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** DD.MM.YYYY HH:mm in local time; '' for missing or invalid input. */
export function formatDateTime(v: string | number | null | undefined): string {
  if (v === null || v === undefined || v === '') return '';
  const ms = typeof v === 'number' ? (v < 1e12 ? v * 1000 : v) : Date.parse(v);
  if (Number.isNaN(ms)) return String(v);
  const d = new Date(ms);
  return `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** HH:mm:ss in local time. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 93784 → "1d 2h 3m"; under a minute → "42s". */
export function formatUptime(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (d || h) parts.push(`${h}h`);
  parts.push(`${m}m`);
  return parts.join(' ');
}

/** "object_store" → "Object store". */
export function humanizeKey(k: string): string {
  const t = k.replace(/[_-]+/g, ' ').trim();
  return t ? t[0].toUpperCase() + t.slice(1) : k;
}
