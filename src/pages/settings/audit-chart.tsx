/**
 * Sign-ins, consents and new token grants per day over the last 30 days, as an SVG drawn on the
 * server (no script, CSP-safe presentation attributes only). Screen readers get a title, a
 * description with the totals and peaks, and the same numbers as a table behind a <details>.
 */

export interface DailySeries {
  label: string;
  /** One count per day of `days`, oldest first. */
  values: number[];
}

export interface AuditChartProps {
  /** "2026-11-03" … "2026-12-02", oldest first (UTC days). */
  days: string[];
  series: DailySeries[];
}

const WIDTH = 600;
const HEIGHT = 170;
const PAD = { left: 34, right: 10, top: 10, bottom: 24 };
/** Blue, orange, green: each at least 3:1 against white (WCAG 1.4.11), told apart by dash too. */
const STROKES = [
  { color: "#1f4fd1", dash: undefined },
  { color: "#b25000", dash: "6 3" },
  { color: "#1d7a3a", dash: "2 3" },
];

const total = (values: number[]) => values.reduce((a, b) => a + b, 0);

function describe(props: AuditChartProps): string {
  return props.series
    .map((s) => {
      const sum = total(s.values);
      if (sum === 0) return `${s.label}: none`;
      const peak = Math.max(...s.values);
      return `${s.label}: ${sum} in all, most on ${props.days[s.values.indexOf(peak)]} (${peak})`;
    })
    .join("; ");
}

export function AuditChart(props: AuditChartProps) {
  const max = Math.max(1, ...props.series.flatMap((s) => s.values));
  const n = props.days.length;
  const x = (i: number) => PAD.left + (i * (WIDTH - PAD.left - PAD.right)) / Math.max(1, n - 1);
  const y = (v: number) => HEIGHT - PAD.bottom - (v * (HEIGHT - PAD.top - PAD.bottom)) / max;
  const ticks = [0, Math.ceil(n / 2) - 1, n - 1];
  return (
    <section class="chart" aria-labelledby="chart-heading">
      <h2 id="chart-heading">Last 30 days</h2>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        aria-labelledby="chart-title chart-desc"
        preserveAspectRatio="xMidYMid meet"
      >
        <title id="chart-title">Sign-ins, consents and new token grants per day, last 30 days</title>
        <desc id="chart-desc">{describe(props)}</desc>
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} stroke="#4a5360" />
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(max)} y2={y(max)} stroke="#c9ced6" stroke-dasharray="2 4" />
        <text x={PAD.left - 6} y={y(max) + 4} text-anchor="end" font-size="11" fill="#4a5360">
          {max}
        </text>
        <text x={PAD.left - 6} y={y(0) + 4} text-anchor="end" font-size="11" fill="#4a5360">
          0
        </text>
        {ticks.map((i) => (
          <text
            x={x(i)}
            y={HEIGHT - 6}
            text-anchor={i === 0 ? "start" : i === n - 1 ? "end" : "middle"}
            font-size="11"
            fill="#4a5360"
          >
            {props.days[i]?.slice(5)}
          </text>
        ))}
        {props.series.map((s, k) => (
          <polyline
            points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
            fill="none"
            stroke={STROKES[k % STROKES.length]?.color}
            stroke-width="2"
            stroke-dasharray={STROKES[k % STROKES.length]?.dash}
          />
        ))}
      </svg>
      <ul class="legend">
        {props.series.map((s, k) => (
          <li>
            <svg width="24" height="10" viewBox="0 0 24 10" aria-hidden="true">
              <line
                x1="0"
                x2="24"
                y1="5"
                y2="5"
                stroke={STROKES[k % STROKES.length]?.color}
                stroke-width="2"
                stroke-dasharray={STROKES[k % STROKES.length]?.dash}
              />
            </svg>
            {s.label} ({total(s.values)})
          </li>
        ))}
      </ul>
      <details>
        <summary>Show the numbers</summary>
        <table class="numbers">
          <caption class="vh">Events per day, last 30 days</caption>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              {props.series.map((s) => (
                <th scope="col">{s.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.days.map((day, i) => (
              <tr>
                <th scope="row">{day}</th>
                {props.series.map((s) => (
                  <td>{s.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}
