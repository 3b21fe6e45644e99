// Fraud score of a proxy (web-ui.md §2.5): "Unknown" until checked, else a
// 0–100 bar: Low ≤ 20, Medium ≤ 50, High ≤ 75, Critical above.

import { Progress, Tooltip } from 'antd';
import type { Proxy } from '../../api/resources';
import { formatDate } from '../../components/crud';
import { S } from '../../strings';

const P = S.proxies;

function scoreBand(n: number): { label: string; color: string } {
  if (n <= 20) return { label: P.low, color: 'var(--bm-success)' };
  if (n <= 50) return { label: P.medium, color: 'var(--bm-warning)' };
  if (n <= 75) return { label: P.high, color: 'var(--bm-brand-warning)' };
  return { label: P.critical, color: 'var(--bm-danger)' };
}

export default function FraudScore({ proxy }: { proxy: Proxy }) {
  if (!proxy.last_checked || typeof proxy.fraud_score !== 'number') return <span className="bm-muted">{P.unknown}</span>;
  const band = scoreBand(proxy.fraud_score);
  return (
    <Tooltip title={`${band.label} · ${formatDate(proxy.last_checked)}`}>
      <span className="bm-score" data-testid="fraud-score">
        <Progress aria-label={P.colFraud} percent={proxy.fraud_score} size="small" showInfo={false} strokeColor={band.color} style={{ width: 70 }} />
        <span style={{ color: band.color }}>{proxy.fraud_score}</span>
      </span>
    </Tooltip>
  );
}
