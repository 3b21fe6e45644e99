// Project performance, expenses distribution and cost structure over the
// period (web-ui.md §2.12), from the server's breakdown of the period (narrowed
// by the page's project): USD figures per project and USD expenses per
// category, since money is never summed across currencies.

import { useMemo } from 'react';
import { Card, Empty, Progress, Table } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { S } from '../../strings';
import type { Breakdown } from '../../api/finance';
import Donut from './Donut';

const F = S.finance;

interface PerfRow {
  key: string;
  name: string;
  income: number;
  expenses: number;
  gold: number;
}

/** Local day bounds of `YYYY-MM-DD` strings as the ms range the server takes. */
export function periodFilters(from: string, to: string): Record<string, string> {
  return {
    from: String(new Date(from + 'T00:00:00').getTime()),
    to: String(new Date(to + 'T23:59:59.999').getTime()),
  };
}

export default function Analysis({
  breakdown,
  projectName,
  money,
}: {
  /** The period per project and expense category, undefined while loading. */
  breakdown: Breakdown | undefined;
  projectName: (id: string | null | undefined) => string;
  money: (v: number, currency: string) => string;
}) {
  const { rows, costs, totalCost } = useMemo(() => {
    // Projects with USD operations, and those whose sales sold gold (for USD).
    const rows: PerfRow[] = Object.entries(breakdown?.by_project ?? {})
      .filter(([, p]) => p.by_currency.USD)
      .map(([key, p]) => ({
        key,
        name: key ? projectName(key) : F.perfGlobal,
        income: p.by_currency.USD.total_revenue,
        expenses: p.by_currency.USD.total_expenses,
        gold: p.gold_sold,
      }))
      .sort((a, b) => b.income - b.expenses - (a.income - a.expenses));
    const costs = Object.entries(breakdown?.expenses_by_category.USD ?? {}).sort((a, b) => b[1] - a[1]);
    // The bars' shares need the whole: a sum of USD amounts only.
    return { rows, costs, totalCost: costs.reduce((s, [, v]) => s + v, 0) };
  }, [breakdown, projectName]);

  const columns: ColumnsType<PerfRow> = [
    { key: 'name', title: F.perfScope, dataIndex: 'name' },
    { key: 'income', title: F.income, align: 'right', render: (_, r) => money(r.income, 'USD') },
    { key: 'expenses', title: F.expenses, align: 'right', render: (_, r) => money(r.expenses, 'USD') },
    {
      key: 'net',
      title: F.net,
      align: 'right',
      defaultSortOrder: 'descend',
      sorter: (a, b) => a.income - a.expenses - (b.income - b.expenses),
      render: (_, r) => {
        const net = r.income - r.expenses;
        return <span className={`bm-tone-text bm-tone-${net >= 0 ? 'success' : 'danger'}`}>{money(net, 'USD')}</span>;
      },
    },
    {
      key: 'margin',
      title: F.perfMargin,
      align: 'right',
      render: (_, r) => (r.income > 0 ? `${(((r.income - r.expenses) / r.income) * 100).toFixed(1)}%` : F.notApplicable),
    },
    { key: 'gold', title: F.perfGold, align: 'right', render: (_, r) => (r.gold ? money(r.gold, 'gold') : '—') },
  ];

  return (
    <div className="bm-fin-charts">
      <Card className="bm-card" size="small" title={F.perfTitle} extra={<span className="bm-muted">{F.perfNote}</span>}>
        <Table<PerfRow>
          size="small"
          rowKey="key"
          columns={columns}
          dataSource={rows}
          loading={!breakdown}
          pagination={false}
          data-testid="fin-perf"
          locale={{ emptyText: F.noTotals }}
        />
      </Card>
      <Card className="bm-card" size="small" title={F.donutTitle}>
        {costs.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={F.noExpenseData} />
        ) : (
          <Donut slices={costs.map(([c, v]) => [F.categories[c] ?? c, v])} format={(v) => money(v, 'USD')} />
        )}
      </Card>
      <Card className="bm-card" size="small" title={F.costTitle}>
        {costs.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={F.noExpenses} />
        ) : (
          <ul className="bm-fin-costs" data-testid="fin-costs">
            {costs.map(([category, amount]) => (
              <li key={category}>
                <span>{F.categories[category] ?? category}</span>
                <Progress aria-label={F.categories[category] ?? category} percent={Math.round((amount / totalCost) * 100)} size="small" status="exception" />
                <strong>{money(amount, 'USD')}</strong>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}
