// Notifications (docs/api.md, "Notifications"): one settings view for the channels, the
// event switches and the daily report time; the test message; the delivery history.

import { api } from './client';

export type Channel = 'telegram' | 'webhook';

/** Every switch the server knows, in the order it lists them. */
export const EVENT_KEYS = [
  'bot_banned',
  'bot_offline',
  'bot_online',
  'level_up',
  'profession_maxed',
  'low_fraud_score',
  'daily_report',
  'resource_expiring',
] as const;
export type EventKey = (typeof EVENT_KEYS)[number];

/** GET answers every value with defaults filled in; secrets are `********` or `''`. */
export interface NotificationSettings {
  telegram: { enabled: boolean; chat_id: string; bot_token: string };
  webhook: { enabled: boolean; url: string; secret: string };
  events: Record<EventKey, boolean>;
  daily_report: { time: string; utc_offset_minutes: number };
  /** The channels events are delivered to now: switched on and complete. */
  active_channels: Channel[];
}

/** PUT merges each part sent, field by field. */
export interface NotificationSettingsUpdate {
  telegram?: Partial<NotificationSettings['telegram']>;
  webhook?: Partial<NotificationSettings['webhook']>;
  events?: Partial<NotificationSettings['events']>;
  daily_report?: Partial<NotificationSettings['daily_report']>;
}

export interface Delivery {
  id: number;
  channel: Channel;
  /** An event key, or `test`. */
  event: string;
  status: 'pending' | 'sending' | 'sent' | 'failed';
  attempts: number;
  text: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
  next_attempt_at: string | null;
}

export const DELIVERIES_PATH = '/notifications/deliveries';

export const notificationsApi = {
  get: () => api.get<NotificationSettings>('/notifications/settings'),
  put: (body: NotificationSettingsUpdate) => api.put<NotificationSettings>('/notifications/settings', body),
  /** 200 when delivered; 409 NOTIFICATION_CHANNEL_NOT_CONFIGURED; 502 with the receiver's reason. */
  test: (channel: Channel) => api.post<{ delivery_id: number; channel: Channel }>('/notifications/test', { channel }),
};
