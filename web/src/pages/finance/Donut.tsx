// Expenses Distribution (web-ui.md §2.12): a donut of expense amounts per
// category, drawn as SVG arcs (stroke-dasharray on one circle per slice).

import { S } from '../../strings';

const COLORS = ['#e74c3c', '#f39c12', '#3498db', '#9b59b6', '#1abc9c', '#e67e22', '#95a5a6'];
const R = 60;
const C = 2 * Math.PI * R;

export default function Donut({ slices, format }: { slices: [string, number][]; format: (v: number) => string }) {
  const total = slices.reduce((s, [, v]) => s + v, 0);
  let offset = 0;
  return (
    <figure className="bm-donut" data-testid="fin-donut">
      <svg viewBox="0 0 160 160" role="img" aria-label={S.finance.donutTitle}>
        <circle cx="80" cy="80" r={R} fill="none" stroke="var(--bm-surface-muted)" strokeWidth="24" />
        {slices.map(([label, v], i) => {
          const len = (v / total) * C;
          const el = (
            <circle
              key={label}
              cx="80"
              cy="80"
              r={R}
              fill="none"
              stroke={COLORS[i % COLORS.length]}
              strokeWidth="24"
              strokeDasharray={`${len} ${C - len}`}
              strokeDashoffset={-offset}
              transform="rotate(-90 80 80)"
            >
              <title>{`${label}: ${format(v)} (${Math.round((v / total) * 100)}%)`}</title>
            </circle>
          );
          offset += len;
          return el;
        })}
        <text x="80" y="86" textAnchor="middle" className="bm-donut-total">
          {format(total)}
        </text>
      </svg>
      <figcaption className="bm-chart-legend">
        {slices.map(([label, v], i) => (
          <span key={label}>
            <i style={{ background: COLORS[i % COLORS.length] }} />
            {label} · {Math.round((v / total) * 100)}%
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
