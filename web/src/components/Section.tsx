// An Overview-style section: upper-case heading with a collapse chevron
// whose state is remembered in browser storage.

import { useState, type ReactNode } from 'react';
import { DownOutlined, RightOutlined } from '@ant-design/icons';

const KEY = 'botmox.overview.collapsed';

function loadCollapsed(): string[] {
  try {
    const v: unknown = JSON.parse(window.localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export default function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  const [collapsed, setCollapsed] = useState(() => loadCollapsed().includes(id));
  const toggle = () => {
    const next = !collapsed;
    setCollapsed(next);
    const all = new Set(loadCollapsed());
    if (next) all.add(id);
    else all.delete(id);
    try {
      window.localStorage.setItem(KEY, JSON.stringify([...all].sort()));
    } catch {
      // ignore
    }
  };
  const bodyId = `bm-section-${id}`;
  return (
    <section className="bm-section" aria-label={title}>
      <button
        type="button"
        className="bm-section-head"
        aria-expanded={!collapsed}
        aria-controls={bodyId}
        onClick={toggle}
      >
        <span className="bm-section-title">{title}</span>
        {collapsed ? <RightOutlined /> : <DownOutlined />}
      </button>
      {!collapsed && (
        <div className="bm-section-body" id={bodyId}>
          {children}
        </div>
      )}
    </section>
  );
}
