// A small uPlot time series chart that follows its container's width.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const HEIGHT = 140;

export function Chart({
  title,
  times,
  values,
  color,
  format,
}: {
  title: string;
  /** Seconds since the epoch. */
  times: readonly number[];
  /** null: no value at that time (a gap). */
  values: readonly (number | null)[];
  color: string;
  format: (v: number) => string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  // One point alone would make uPlot invent a time range of years: start the axis a minute earlier.
  const data = (): uPlot.AlignedData =>
    times.length === 1
      ? [
          [(times[0] as number) - 60, times[0] as number],
          [null, values[0] ?? null],
        ]
      : [times as number[], values as (number | null)[]];

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // At least a minute wide, so the first points do not stretch over a made-up range.
        x: { time: true, range: (_u, min, max) => [Math.min(min, max - 60), max] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { show: false } },
        {
          stroke: 'currentColor',
          size: 56,
          grid: { stroke: 'rgba(128,128,128,0.15)' },
          ticks: { show: false },
          values: (_u, splits) => splits.map((v) => format(v)),
        },
      ],
      series: [
        {},
        {
          label: title,
          stroke: color,
          width: 2,
          fill: `${color}22`,
          spanGaps: false,
          points: { show: false },
        },
      ],
    };
    plot.current = new uPlot(opts, data(), el);
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(el.clientWidth, 200), height: HEIGHT }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data());
  }, [times, values]);

  const latest = values.at(-1);
  return (
    <figure class="chart">
      <figcaption>
        {title}: <strong>{latest === null || latest === undefined ? '–' : format(latest)}</strong>
      </figcaption>
      <div
        ref={box}
        class="chart-box"
        role="img"
        aria-label={`${title} over the last ${times.length} samples`}
      />
    </figure>
  );
}
