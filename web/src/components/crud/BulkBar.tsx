// The bar above a list while rows are selected: count, actions, clear.

import type { ReactNode } from 'react';
import { Button } from 'antd';
import { CloseOutlined } from '@ant-design/icons';
import { S } from '../../strings';
import type { TableModel } from './useListTable';
import './crud.css';

export default function BulkBar<T>({ table, children }: { table: TableModel<T>; children: ReactNode }) {
  if (table.selected.length === 0) return null;
  return (
    <div className="bm-bulkbar" role="toolbar" aria-label={S.crud.selected(table.selected.length)}>
      <span className="bm-bulkbar-count" data-testid="bulk-count">
        {S.crud.selected(table.selected.length)}
      </span>
      {children}
      <span className="bm-grow" />
      <Button size="small" type="text" icon={<CloseOutlined />} onClick={() => table.setSelected([])}>
        {S.crud.clearSelection}
      </Button>
    </div>
  );
}

/** Runs one call per item (all at once) and reports how many worked. */
export async function runBulk<T>(items: T[], call: (item: T) => Promise<unknown>): Promise<{ ok: number; failed: number }> {
  const results = await Promise.allSettled(items.map(call));
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { ok: results.length - failed, failed };
}
