// Small table cells shared by the list pages: icon actions with tooltips,
// copy, dates and days-left (web-ui.md §1.7).

import type { ReactNode } from 'react';
import { App, Button, Tooltip } from 'antd';
import { CopyOutlined } from '@ant-design/icons';
import { DAY_MS } from '../../format';
import { S } from '../../strings';
import type { Tone } from './PageHeader';

function pad(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** DD.MM.YYYY in local time; '' for missing input. */
export function formatDate(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()}`;
}

/** ceil((expires − now) / day), 0 once expired; undefined without a date. */
export function daysLeft(expiresAt: number | null | undefined, now = Date.now()): number | undefined {
  if (typeof expiresAt !== 'number') return undefined;
  return Math.max(0, Math.ceil((expiresAt - now) / DAY_MS));
}

/** Green, orange within 7 days, red within 3 or expired. */
export function daysTone(days: number | undefined): Tone {
  if (days === undefined) return 'muted';
  if (days <= 3) return 'danger';
  if (days <= 7) return 'warning';
  return 'success';
}

export function DaysLeft({ expiresAt }: { expiresAt: number | null | undefined }) {
  const d = daysLeft(expiresAt);
  if (d === undefined) return <span className="bm-muted">—</span>;
  return <span className={`bm-tone-text bm-tone-${daysTone(d)}`}>{d}</span>;
}

export function IconAction({
  title,
  icon,
  onClick,
  danger,
  loading,
  disabled,
  testId,
}: {
  title: string;
  icon: ReactNode;
  onClick: () => void;
  danger?: boolean;
  loading?: boolean;
  disabled?: boolean;
  testId?: string;
}) {
  return (
    <Tooltip title={title}>
      <Button
        size="small"
        type="text"
        aria-label={title}
        icon={icon}
        danger={danger}
        loading={loading}
        disabled={disabled}
        onClick={onClick}
        data-testid={testId}
      />
    </Tooltip>
  );
}

/** Copies a text to the clipboard with a toast; on a refusal the text is shown instead. */
export function useCopy() {
  const { message } = App.useApp();
  return (text: string, toast?: string) =>
    navigator.clipboard?.writeText(text).then(
      () => message.success(toast ?? S.crud.copied),
      () => message.error(text),
    );
}

export function CopyButton({ text, label, toast }: { text: string; label?: ReactNode; toast?: string }) {
  const copyText = useCopy();
  const copy = () => void copyText(text, toast);
  if (label === undefined) return <IconAction title={S.crud.copy} icon={<CopyOutlined />} onClick={copy} />;
  return (
    <Button size="small" type="text" className="bm-mono" onClick={copy} icon={<CopyOutlined />} title={S.crud.copy}>
      {label}
    </Button>
  );
}
