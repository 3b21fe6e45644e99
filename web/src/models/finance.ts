// Figures over finance operations that no server route aggregates, shared by the Finance page
// and the Overview so that both say the same.

import type { Operation } from '../api/finance';

/** Gold sold by one project's sales and the sum and count of their prices ($ per 1000 g). */
export interface GoldSold {
  gold: number;
  priceSum: number;
  n: number;
}

/** Gold sold per project ('' for sales without one), from the income sales that name a gold amount. */
export function goldSoldByProject(ops: readonly Operation[]): Record<string, GoldSold> {
  const sold: Record<string, GoldSold> = {};
  for (const op of ops) {
    if (op.type !== 'income' || op.category !== 'sale' || typeof op.gold_amount !== 'number' || op.gold_amount <= 0) continue;
    const g = (sold[op.project_id || ''] ??= { gold: 0, priceSum: 0, n: 0 });
    g.gold += op.gold_amount;
    if (typeof op.gold_price_at_time === 'number') {
      g.priceSum += op.gold_price_at_time;
      g.n += 1;
    }
  }
  return sold;
}
