// Person, account and schedule generators of the Configure tab (web-ui.md
// §2.3): built-in name and address lists, e-mails from the person's names,
// passwords holding each chosen character class, and a week of sessions
// inside the allowed windows. Character names come from the server.

import { api } from '../../api/client';
import type { Person } from '../../api/bots';

export const COUNTRIES = ['Turkey', 'Ukraine'] as const;
export type Country = (typeof COUNTRIES)[number];

const PEOPLE: Record<Country, { first: string[]; last: string[]; cities: [string, string][]; streets: string[] }> = {
  Turkey: {
    first: ['Emre', 'Mehmet', 'Ayşe', 'Zeynep', 'Burak', 'Elif', 'Can', 'Selin', 'Oğuz', 'Deniz'],
    last: ['Yılmaz', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Aydın', 'Öztürk', 'Arslan', 'Doğan', 'Koç'],
    cities: [['İstanbul', '34'], ['Ankara', '06'], ['İzmir', '35'], ['Bursa', '16'], ['Antalya', '07']],
    streets: ['Atatürk Caddesi', 'Cumhuriyet Sokak', 'İnönü Bulvarı', 'Gazi Caddesi', 'Lale Sokak'],
  },
  Ukraine: {
    first: ['Олександр', 'Андрій', 'Олена', 'Ірина', 'Дмитро', 'Наталія', 'Сергій', 'Юлія', 'Максим', 'Оксана'],
    last: ['Шевченко', 'Коваленко', 'Бондаренко', 'Ткаченко', 'Кравченко', 'Мельник', 'Бойко', 'Марченко', 'Савченко', 'Руденко'],
    cities: [['Київ', '01'], ['Львів', '79'], ['Одеса', '65'], ['Харків', '61'], ['Дніпро', '49']],
    streets: ['вул. Шевченка', 'вул. Франка', 'просп. Перемоги', 'вул. Садова', 'вул. Лесі Українки'],
  },
};

const pick = <T,>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];
const int = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
const pad = (n: number) => String(n).padStart(2, '0');

export function generatePerson(country: Country): Required<Person> {
  const p = PEOPLE[country];
  const [city, zipPrefix] = pick(p.cities);
  return {
    first_name: pick(p.first),
    last_name: pick(p.last),
    birth_date: `${pad(int(1, 28))}-${pad(int(1, 12))}-${int(1970, 2000)}`,
    country,
    city,
    zip: `${zipPrefix}${String(int(0, 999)).padStart(3, '0')}`,
    address: `${pick(p.streets)}, ${int(1, 150)}`,
  };
}

const TRANSLIT: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'h', ґ: 'g', д: 'd', е: 'e', є: 'ye', ж: 'zh', з: 'z', и: 'y', і: 'i', ї: 'yi', й: 'y',
  к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch',
  ш: 'sh', щ: 'shch', ь: '', ю: 'yu', я: 'ya', ы: 'y', э: 'e', ё: 'yo', ъ: '',
  ç: 'c', ğ: 'g', ı: 'i', ö: 'o', ş: 's', ü: 'u',
};

/** Lower-case Latin letters only (Cyrillic and Turkish transliterated). */
export function transliterate(text: string): string {
  return [...text.toLowerCase()].map((ch) => TRANSLIT[ch] ?? ch).join('').replace(/[^a-z]/g, '');
}

export const EMAIL_DOMAINS = ['outlook.com', 'proton.me', 'gmail.com'];

/** Names in random order joined by "_", "-" or nothing, plus two digits of the birth date. */
export function generateEmail(person: Person, domain: string): string | null {
  const names = [person.first_name, person.last_name].map((n) => transliterate(n ?? ''));
  const digits = (person.birth_date ?? '').replace(/\D/g, '');
  if (names.some((n) => !n) || digits.length < 8) return null;
  if (Math.random() < 0.5) names.reverse();
  const two = pick([digits.slice(6, 8), digits.slice(2, 4), digits.slice(0, 2)]);
  return `${names.join(pick(['_', '-', '']))}${two}@${domain}`;
}

export interface PasswordOptions {
  length: number;
  upper: boolean;
  lower: boolean;
  digits: boolean;
  symbols: boolean;
}

export const DEFAULT_PASSWORD: PasswordOptions = { length: 12, upper: true, lower: true, digits: true, symbols: true };

const CLASSES = {
  upper: 'ABCDEFGHJKLMNPQRSTUVWXYZ',
  lower: 'abcdefghijkmnopqrstuvwxyz',
  digits: '23456789',
  symbols: '!@#$%^&*',
} as const;

/** Random from crypto; at least one character of each chosen class. */
export function generatePassword(o: PasswordOptions): string {
  const sets = (Object.keys(CLASSES) as (keyof typeof CLASSES)[]).filter((k) => o[k]).map((k) => CLASSES[k]);
  if (!sets.length) sets.push(CLASSES.lower);
  const rnd = (n: number) => crypto.getRandomValues(new Uint32Array(1))[0] % n;
  const chars = sets.map((s) => s[rnd(s.length)]);
  const all = sets.join('');
  while (chars.length < o.length) chars.push(all[rnd(all.length)]);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = rnd(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

/** A name from `GET wow-names?batches=3` not in `seen`. */
export async function generateCharacterName(seen: string[]): Promise<string | undefined> {
  const r = await api.get<{ names: string[] }>('/wow-names?batches=3');
  const fresh = r.names.filter((n) => !seen.includes(n));
  return fresh.length ? pick(fresh) : r.names[0];
}

// ---- schedule ----

export interface Session {
  id: string;
  start: string;
  end: string;
  enabled: boolean;
  type: 'active';
  profile: string;
}

export interface Schedule {
  version: number;
  timezone: string;
  days: Record<string, { enabled: boolean; sessions: Session[] }>;
  allowedWindows: { start: string; end: string }[];
  updated_at?: number;
}

export interface ScheduleParams {
  startTime: string;
  endTime: string;
  /** An optional second window, e.g. night sessions after midnight. */
  useSecondWindow?: boolean;
  secondStartTime?: string;
  secondEndTime?: string;
  targetActiveMinutes: number;
  minSessionMinutes: number;
  minBreakMinutes: number;
  randomOffsetMinutes: number;
  profile: string;
}

export const DEFAULT_SCHEDULE_PARAMS: ScheduleParams = {
  startTime: '07:00',
  endTime: '23:30',
  useSecondWindow: false,
  secondStartTime: '00:00',
  secondEndTime: '02:00',
  targetActiveMinutes: 720,
  minSessionMinutes: 60,
  minBreakMinutes: 30,
  randomOffsetMinutes: 15,
  profile: 'default',
};

export const toMinutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h || 0) * 60 + (m || 0);
};
export const toHhmm = (min: number) => `${pad(Math.floor(min / 60) % 24)}:${pad(min % 60)}`;

/** Session length in minutes; a session may cross midnight. */
export const duration = (s: Pick<Session, 'start' | 'end'>) => (toMinutes(s.end) - toMinutes(s.start) + 1440) % 1440;

const step5 = (n: number) => Math.round(n / 5) * 5;

/** The generator's windows: the first, and the second when it is switched on. */
export function windowsOf(p: ScheduleParams): Schedule['allowedWindows'] {
  const first = { start: p.startTime, end: p.endTime };
  return p.useSecondWindow && p.secondStartTime && p.secondEndTime
    ? [first, { start: p.secondStartTime, end: p.secondEndTime }]
    : [first];
}

/** Why the generator cannot run with these parameters, or null. */
export function paramsProblem(p: ScheduleParams): 'end' | 'overlap' | 'target' | null {
  const spans = windowsOf(p).map((w) => [toMinutes(w.start), toMinutes(w.end)] as const);
  if (spans.some(([a, b]) => b <= a)) return 'end';
  if (spans.length === 2 && spans[0][0] < spans[1][1] && spans[1][0] < spans[0][1]) return 'overlap';
  if (p.targetActiveMinutes > spans.reduce((n, [a, b]) => n + b - a, 0)) return 'target';
  return null;
}

/** About `target` minutes of sessions in [start, end), jittered. */
function fillWindow(start: number, end: number, target: number, p: ScheduleParams, idPrefix: string): Session[] {
  const count = Math.max(1, Math.floor(target / Math.max(p.minSessionMinutes, 1) / 2));
  const length = Math.max(p.minSessionMinutes, step5(target / count));
  const room = end - start - count * length;
  const gap = Math.max(p.minBreakMinutes, step5(room / Math.max(count, 1)));
  const sessions: Session[] = [];
  let t = start + step5(Math.random() * Math.min(p.randomOffsetMinutes, Math.max(room, 0)));
  for (let i = 0; i < count && t + p.minSessionMinutes <= end; i++) {
    const jitter = step5((Math.random() * 2 - 1) * p.randomOffsetMinutes);
    const len = Math.min(end - t, Math.max(p.minSessionMinutes, length + jitter));
    sessions.push({ id: `${idPrefix}-${i}`, start: toHhmm(t), end: toHhmm(t + len), enabled: true, type: 'active', profile: p.profile });
    t += len + gap;
  }
  return sessions;
}

/** Seven days of sessions filling about `targetActiveMinutes`, shared among the windows by their length. */
export function generateSchedule(p: ScheduleParams): Schedule {
  const windows = windowsOf(p);
  const spans = windows.map((w) => [toMinutes(w.start), toMinutes(w.end)] as const);
  const total = spans.reduce((n, [a, b]) => n + b - a, 0);
  const days: Schedule['days'] = {};
  for (let d = 0; d < 7; d++) {
    const sessions = spans
      .flatMap(([a, b], w) => fillWindow(a, b, (p.targetActiveMinutes * (b - a)) / total, p, `s${d}-${w}`))
      .sort((x, y) => toMinutes(x.start) - toMinutes(y.start));
    days[String(d)] = { enabled: true, sessions };
  }
  return {
    version: 1,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    days,
    allowedWindows: windows,
  };
}

/** Active, break (gaps between the first start and the last end), sessions and share of the day, of enabled sessions. */
export function dayStats(sessions: Session[]): { active: number; breaks: number; count: number; percent: number } {
  const on = sessions.filter((s) => s.enabled);
  const active = on.reduce((n, s) => n + duration(s), 0);
  const first = Math.min(...on.map((s) => toMinutes(s.start)));
  const last = Math.max(...on.map((s) => toMinutes(s.start) + duration(s)));
  const breaks = on.length > 1 ? Math.max(0, last - first - active) : 0;
  return { active, breaks, count: on.length, percent: (active / 1440) * 100 };
}

/**
 * Whether two sessions of one day overlap (minutes, with midnight crossing unrolled): a
 * session past midnight also meets the early part of the same day, hence the shifts.
 */
export function overlaps(a: Pick<Session, 'start' | 'end'>, b: Pick<Session, 'start' | 'end'>): boolean {
  const span = (s: Pick<Session, 'start' | 'end'>) => [toMinutes(s.start), toMinutes(s.start) + duration(s)] as const;
  const [a0, a1] = span(a);
  const [b0, b1] = span(b);
  return [-1440, 0, 1440].some((k) => a0 < b1 + k && b0 + k < a1);
}
