// Filter card of a list page (web-ui.md §1.7): search (debounced; "/" focuses
// it from anywhere on the page), select filters, Reset.

import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Button, Input, Select, type InputRef } from 'antd';
import { ReloadOutlined, SearchOutlined } from '@ant-design/icons';
import { S } from '../../strings';
import type { TableModel } from './useListTable';
import './crud.css';

const DEBOUNCE_MS = 300;

export interface FilterSelect {
  key: string;
  label: string;
  options: { value: string; label: ReactNode }[];
  width?: number;
}

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

export default function FilterBar<T>({
  table,
  placeholder,
  selects = [],
  extra,
}: {
  table: TableModel<T>;
  placeholder: string;
  selects?: FilterSelect[];
  extra?: ReactNode;
}) {
  const [text, setText] = useState(table.state.q);
  const input = useRef<InputRef>(null);
  const pushed = useRef(table.state.q);

  // Follow the URL when it changes from outside (Reset, Back).
  useEffect(() => {
    if (table.state.q !== pushed.current) {
      pushed.current = table.state.q;
      setText(table.state.q);
    }
  }, [table.state.q]);

  const { setSearch } = table;
  useEffect(() => {
    if (text.trim() === pushed.current) return;
    const t = window.setTimeout(() => {
      pushed.current = text.trim();
      setSearch(text);
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(t);
  }, [text, setSearch]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !isTyping(e.target)) {
        e.preventDefault();
        input.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="bm-filterbar" role="search">
      <Input
        ref={input}
        className="bm-filter-search"
        allowClear
        prefix={<SearchOutlined />}
        placeholder={placeholder}
        aria-label={placeholder}
        title={S.crud.searchHint}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onPressEnter={() => {
          pushed.current = text.trim();
          setSearch(text);
        }}
      />
      {selects.map((f) => (
        <Select
          key={f.key}
          aria-label={f.label}
          style={{ width: f.width ?? 160 }}
          value={table.state.filters[f.key] ?? ''}
          onChange={(v: string) => table.setFilter(f.key, v)}
          options={[{ value: '', label: `${f.label}: ${S.crud.all}` }, ...f.options]}
        />
      ))}
      {extra}
      <Button icon={<ReloadOutlined />} onClick={table.reset} disabled={!table.narrowed && !table.state.sort}>
        {S.crud.reset}
      </Button>
    </div>
  );
}
