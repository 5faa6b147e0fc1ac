import type { Plot } from './figure.js';

const WIDTH = 640;
const HEIGHT = 320;
const M = { left: 64, right: 150, top: 36, bottom: 44 };
const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" axis maximum and step: 1, 2 or 5 × a power of ten. */
function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  return { top: Math.ceil(max / step) * step, step };
}

const fmt = (n: number) =>
  Math.abs(n) >= 1000 ? n.toLocaleString('en-US') : String(Math.round(n * 100) / 100);

/** A small self-contained SVG line or bar chart (no scripts, no external fonts). */
export function renderSvg(plot: Plot): string {
  const w = WIDTH - M.left - M.right;
  const h = HEIGHT - M.top - M.bottom;
  const ys = [
    ...plot.series.flatMap((s) => s.points.map((p) => p[1])),
    ...(plot.rules ?? []).map((r) => r.y),
  ];
  const yScale = niceScale(Math.max(...ys, 0));
  const y = (v: number) => M.top + h - (v / yScale.top) * h;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${M.left}" y="20" font-size="13" font-weight="bold">${esc(plot.title)}</text>`,
  );
  for (let v = 0; v <= yScale.top + 1e-9; v += yScale.step) {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + w}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`,
      `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#374151">${fmt(v)}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(14 ${M.top + h / 2}) rotate(-90)" text-anchor="middle" fill="#374151">${esc(plot.y)}</text>`,
  );
  if (plot.kind === 'bars') {
    const bars = plot.series;
    const slot = w / bars.length;
    bars.forEach((s, i) => {
      const value = s.points[0]?.[1] ?? 0;
      const x = M.left + i * slot + slot * 0.2;
      parts.push(
        `<rect x="${x}" y="${y(value)}" width="${slot * 0.6}" height="${M.top + h - y(value)}" fill="${COLOURS[i % COLOURS.length]}"/>`,
        `<text x="${x + slot * 0.3}" y="${y(value) - 4}" text-anchor="middle">${fmt(value)}</text>`,
        `<text x="${x + slot * 0.3}" y="${M.top + h + 16}" text-anchor="middle">${esc(s.label)}</text>`,
      );
    });
  } else {
    const xs = plot.series.flatMap((s) => s.points.map((p) => p[0]));
    const xMin = Math.min(...xs, 0);
    const xScale = niceScale(Math.max(...xs) - xMin);
    const x = (v: number) => M.left + ((v - xMin) / xScale.top) * w;
    for (let v = 0; v <= xScale.top + 1e-9; v += xScale.step) {
      parts.push(
        `<line x1="${x(v + xMin)}" x2="${x(v + xMin)}" y1="${M.top + h}" y2="${M.top + h + 4}" stroke="#374151"/>`,
        `<text x="${x(v + xMin)}" y="${M.top + h + 16}" text-anchor="middle" fill="#374151">${fmt(v + xMin)}</text>`,
      );
    }
    parts.push(
      `<text x="${M.left + w / 2}" y="${HEIGHT - 8}" text-anchor="middle" fill="#374151">${esc(plot.x)}</text>`,
    );
    plot.series.forEach((s, i) => {
      const colour = COLOURS[i % COLOURS.length]!;
      const d = s.points
        .map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
        .join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
      if (s.points.length <= 60) {
        for (const p of s.points)
          parts.push(
            `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2" fill="${colour}"/>`,
          );
      }
      parts.push(
        `<rect x="${M.left + w + 12}" y="${M.top + i * 18}" width="10" height="10" fill="${colour}"/>`,
        `<text x="${M.left + w + 26}" y="${M.top + i * 18 + 9}">${esc(s.label)}</text>`,
      );
    });
  }
  (plot.rules ?? []).forEach((r, i) => {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + w}" y1="${y(r.y)}" y2="${y(r.y)}" stroke="#6b7280" stroke-dasharray="5 4"/>`,
      `<text x="${M.left + w + 12}" y="${M.top + (plot.series.length + i) * 18 + 9}" fill="#6b7280">- - ${esc(r.label)}</text>`,
    );
  });
  parts.push(
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + h}" stroke="#374151"/>`,
    `<line x1="${M.left}" x2="${M.left + w}" y1="${M.top + h}" y2="${M.top + h}" stroke="#374151"/>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
