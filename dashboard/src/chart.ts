// The clicks-by-day chart, loaded only by the pages that show one (a link's, the Overview) by a
// dynamic import, so uPlot costs the list page nothing.
import uPlot from "uplot";

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/// Draws `clicks` per UTC day into `el`, sized to its width; returns the cleanup.
export function drawClicks(el: HTMLElement, days: string[], clicks: number[]): () => void {
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const ink = cssVar("--pico-color", "#333");
  const grid = cssVar("--pico-muted-border-color", "#ddd");
  const accent = cssVar("--pico-primary", "#1e88e5");
  const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
  const plot = new uPlot(
    {
      width: Math.max(280, el.clientWidth),
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [axis, { ...axis, size: 40 }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      series: [{}, { label: "Clicks", stroke: accent, fill: `${accent}33`, width: 2, paths: uPlot.paths.stepped!({ align: 1 }) }],
    },
    [xs, clicks],
    el,
  );
  const resize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 });
  addEventListener("resize", resize);
  return () => {
    removeEventListener("resize", resize);
    plot.destroy();
  };
}
