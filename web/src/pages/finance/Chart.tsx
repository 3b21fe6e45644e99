// A light SVG chart over days: bars and lines on a left value axis and, for
// series of another unit (gold price), an optional right one; a tooltip per day
// from <title>, axis labels thinned to fit. No chart library needed for this.

import { useMemo } from 'react';

export interface Series {
  key: string;
  name: string;
  color: string;
  kind: 'bar' | 'line';
  values: (number | null)[];
  /** Drawn against the right axis (formatted with `formatRight`). */
  right?: boolean;
  /** Left out until the chart settings switch it on. */
  hidden?: boolean;
}

/** "Nov 3", "3 Nov", "3. Nov.": day and short month in the browser's locale. */
const axisDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const axisDay = (ymd: string) => axisDate.format(new Date(Number(ymd.slice(0, 4)), Number(ymd.slice(5, 7)) - 1, Number(ymd.slice(8, 10))));

const W = 900;
const PAD = { l: 56, t: 12, b: 28 };

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

/** A value scale over `series` from zero, in round steps, with its tick values. */
function scaleOf(series: Series[]): { lo: number; hi: number; ticks: number[] } {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  let lo = Math.min(0, ...all);
  let hi = Math.max(0, ...all);
  if (lo === hi) hi = lo + 1;
  const step = niceStep(hi - lo, 4);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(v);
  return { lo, hi, ticks };
}

export default function DayChart({
  days,
  series,
  format,
  formatRight = format,
  label,
  height = 240,
  testId,
}: {
  /** YYYY-MM-DD per x position. */
  days: string[];
  series: Series[];
  format: (v: number) => string;
  formatRight?: (v: number) => string;
  label: string;
  height?: number;
  testId?: string;
}) {
  const left = useMemo(() => scaleOf(series.filter((s) => !s.right)), [series]);
  const right = useMemo(() => {
    const r = series.filter((s) => s.right);
    return r.length ? scaleOf(r) : null;
  }, [series]);

  const H = height;
  const padR = right ? 56 : 12;
  const n = days.length;
  const iw = W - PAD.l - padR;
  const ih = H - PAD.t - PAD.b;
  const slot = n ? iw / n : iw;
  const x = (i: number) => PAD.l + slot * (i + 0.5);
  const yOn = (sc: { lo: number; hi: number }) => (v: number) => PAD.t + ih - ((v - sc.lo) / (sc.hi - sc.lo)) * ih;
  const y = yOn(left);
  const yOf = (s: Series) => (s.right && right ? yOn(right) : y);
  const bars = series.filter((s) => s.kind === 'bar');
  const barW = Math.max(1, (slot * 0.8) / Math.max(1, bars.length));
  const every = Math.max(1, Math.ceil(n / 12));
  const ticks = left.ticks;

  return (
    <figure className="bm-chart" data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
        {ticks.map((v) => (
          <g key={v}>
            <line className="bm-chart-grid" x1={PAD.l} x2={W - padR} y1={y(v)} y2={y(v)} />
            <text className="bm-chart-axis" x={PAD.l - 6} y={y(v) + 4} textAnchor="end">
              {format(v)}
            </text>
          </g>
        ))}
        {right?.ticks.map((v) => (
          <text key={`r${v}`} className="bm-chart-axis" x={W - padR + 6} y={yOn(right)(v) + 4} textAnchor="start">
            {formatRight(v)}
          </text>
        ))}
        <line className="bm-chart-zero" x1={PAD.l} x2={W - padR} y1={y(0)} y2={y(0)} />
        {days.map((d, i) =>
          i % every === 0 ? (
            <text key={d} className="bm-chart-axis" data-axis="x" x={x(i)} y={H - 8} textAnchor="middle">
              {axisDay(d)}
            </text>
          ) : null,
        )}
        {bars.map((s, bi) =>
          s.values.map((v, i) =>
            v === null || v === 0 ? null : (
              <rect
                key={`${s.key}-${i}`}
                data-series={s.key}
                x={x(i) - (barW * bars.length) / 2 + bi * barW}
                width={barW}
                y={Math.min(yOf(s)(v), yOf(s)(0))}
                height={Math.max(1, Math.abs(yOf(s)(v) - yOf(s)(0)))}
                fill={s.color}
                opacity={0.85}
              />
            ),
          ),
        )}
        {series
          .filter((s) => s.kind === 'line')
          .map((s) => {
            const pts = s.values
              .map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${yOf(s)(v).toFixed(1)}`))
              .filter((p): p is string => p !== null);
            return pts.length ? (
              <polyline key={s.key} data-series={s.key} points={pts.join(' ')} fill="none" stroke={s.color} strokeWidth={2} vectorEffect="non-scaling-stroke" />
            ) : null;
          })}
        {/* One hover target per day carries that day's values. */}
        {days.map((d, i) => (
          <rect key={`hover-${d}`} className="bm-chart-hover" x={x(i) - slot / 2} width={slot} y={PAD.t} height={ih}>
            <title>
              {[d, ...series.map((s) => `${s.name}: ${s.values[i] === null ? '—' : (s.right ? formatRight : format)(s.values[i] as number)}`)].join('\n')}
            </title>
          </rect>
        ))}
      </svg>
      <figcaption className="bm-chart-legend">
        {series.map((s) => (
          <span key={s.key}>
            <i style={{ background: s.color }} className={s.kind === 'line' ? 'is-line' : ''} />
            {s.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
