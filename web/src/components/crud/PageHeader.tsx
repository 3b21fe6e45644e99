// Header card of a list page (web-ui.md §1.7): icon, title, grey subtitle,
// a "Stats" toggle remembered per page, and the primary action; the stat
// cards below it show big colored numbers.

import { useState, type ReactNode } from 'react';
import { Button, Skeleton } from 'antd';
import { DownOutlined, RightOutlined } from '@ant-design/icons';
import { S } from '../../strings';
import './crud.css';

const STATS_KEY = 'botmox.stats.collapsed';

function collapsedPages(): string[] {
  try {
    const v: unknown = JSON.parse(window.localStorage.getItem(STATS_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export type Tone = 'default' | 'success' | 'warning' | 'danger' | 'info' | 'muted';

export interface Stat {
  label: string;
  value: ReactNode;
  tone?: Tone;
  testId?: string;
}

export function StatCards({ stats, loading }: { stats: Stat[]; loading?: boolean }) {
  return (
    <div className="bm-stats">
      {stats.map((s) => (
        <div key={s.label} className={`bm-stat bm-tone-${s.tone ?? 'default'}`} data-testid={s.testId}>
          <div className="bm-stat-label">{s.label}</div>
          <div className="bm-stat-value">
            {loading ? <Skeleton.Button active size="small" /> : s.value}
          </div>
        </div>
      ))}
    </div>
  );
}

export default function PageHeader({
  id,
  icon,
  title,
  subtitle,
  actions,
  stats,
  statsLoading,
}: {
  /** Remembers the Stats toggle under this id. */
  id: string;
  icon?: ReactNode;
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  stats?: Stat[];
  statsLoading?: boolean;
}) {
  const [hidden, setHidden] = useState(() => collapsedPages().includes(id));
  const toggle = () => {
    const next = !hidden;
    setHidden(next);
    const all = new Set(collapsedPages());
    if (next) all.add(id);
    else all.delete(id);
    try {
      window.localStorage.setItem(STATS_KEY, JSON.stringify([...all].sort()));
    } catch {
      // Storage disabled: the toggle lasts for this page view.
    }
  };
  return (
    <>
      <div className="bm-pagehead">
        {icon ? <span className="bm-pagehead-icon">{icon}</span> : null}
        <div className="bm-pagehead-text">
          <h1 className="bm-page-title">{title}</h1>
          {subtitle ? <div className="bm-page-subtitle">{subtitle}</div> : null}
        </div>
        <span className="bm-grow" />
        {stats ? (
          <Button type="text" onClick={toggle} aria-expanded={!hidden} icon={hidden ? <RightOutlined /> : <DownOutlined />}>
            {S.crud.stats}
          </Button>
        ) : null}
        {actions}
      </div>
      {stats && !hidden ? <StatCards stats={stats} loading={statsLoading} /> : null}
    </>
  );
}
