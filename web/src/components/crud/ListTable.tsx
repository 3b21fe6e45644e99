// A server-paged antd table bound to useListTable: pagination, sort order and
// selection follow the URL state; loading, error and empty states say what
// is going on and what to do.

import type { ReactNode } from 'react';
import { Button, Empty, Table, type TableProps } from 'antd';
import type { ColumnsType, SorterResult } from 'antd/es/table/interface';
import { S, type Noun } from '../../strings';
import LoadError from './LoadError';
import type { TableModel } from './useListTable';
import './crud.css';

export interface ListTableProps<T> {
  table: TableModel<T>;
  /** Columns whose `key` is the server sort field get `sorter: true`. */
  columns: ColumnsType<T>;
  /** The noun for "Total N …". */
  noun: Noun;
  /** Shown when the collection is empty (not when filters hide everything). */
  emptyText?: ReactNode;
  /** The next step from an empty collection (usually the page's "Add …"), under its picture. */
  emptyAction?: ReactNode;
  selectable?: boolean;
  pageSizes?: number[];
  testId?: string;
  size?: TableProps<T>['size'];
  expandable?: TableProps<T>['expandable'];
}

export default function ListTable<T extends object>({
  table,
  columns,
  noun,
  emptyText,
  emptyAction,
  selectable,
  pageSizes = [10, 15, 25, 50, 100],
  testId,
  size = 'small',
  expandable,
}: ListTableProps<T>) {
  const { state, data } = table;
  const controlled = columns.map((c) =>
    c.sorter && c.key !== undefined
      ? { ...c, sortOrder: state.sort === c.key ? (state.order === 'desc' ? 'descend' : 'ascend') : null }
      : c,
  ) as ColumnsType<T>;

  const onChange: TableProps<T>['onChange'] = (pagination, _filters, sorter, extra) => {
    if (extra.action === 'sort') {
      const s = (Array.isArray(sorter) ? sorter[0] : sorter) as SorterResult<T> | undefined;
      const field = s?.order ? String(s.columnKey ?? '') : '';
      table.setSort(field || undefined, s?.order === 'descend' ? 'desc' : 'asc');
    } else if (extra.action === 'paginate') {
      table.setPage(pagination.current ?? 1, pagination.pageSize);
    }
  };

  const empty = table.error ? (
    <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={S.crud.loadFailed} />
  ) : table.narrowed ? (
    <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={S.crud.noMatches}>
      <Button size="small" onClick={table.reset}>
        {S.crud.clearFilters}
      </Button>
    </Empty>
  ) : (
    <Empty description={emptyText ?? S.crud.noData} data-testid="list-empty">
      {emptyAction}
    </Empty>
  );

  return (
    <div className="bm-list" data-testid={testId}>
      {table.error ? <LoadError className="bm-list-error" error={table.error} retry={table.refresh} /> : null}
      <Table<T>
        size={size}
        rowKey={table.rowKey}
        columns={controlled}
        dataSource={data?.items ?? []}
        loading={table.loading}
        onChange={onChange}
        expandable={expandable}
        locale={{ emptyText: table.loading && !data ? ' ' : empty }}
        rowSelection={
          selectable
            ? {
                selectedRowKeys: table.selected,
                preserveSelectedRowKeys: true,
                onChange: (keys) => table.setSelected(keys.map(String)),
                // Each row's box is named after its row, for screen readers and axe.
                getCheckboxProps: (row: T) => ({ 'aria-label': S.crud.selectRow(String(table.rowKey(row))) }) as object,
              }
            : undefined
        }
        pagination={{
          current: state.page,
          pageSize: state.limit,
          total: data?.total ?? 0,
          showSizeChanger: true,
          pageSizeOptions: pageSizes,
          showTotal: (n) => S.crud.total(n, noun),
          size: 'small',
        }}
        scroll={{ x: 'max-content' }}
      />
    </div>
  );
}
