/**
 * Charts as SVG strings (grouped bars per class, lines over training steps) and their PNG
 * rendering with sharp (librsvg). Pure string building: no DOM, no fonts embedded; text uses
 * DejaVu Sans (present wherever fontconfig is) with generic fallbacks.
 *
 * Non-finite values are never written into the SVG: a null/NaN bar is drawn as a small grey
 * "n/a" tick, a non-finite line point is dropped (the line breaks there).
 */
import sharp from 'sharp';

/** Colour-blind-friendly palette (Tableau 10), in series order. */
export const PALETTE: ReadonlyArray<string> = [
  '#4E79A7',
  '#F28E2B',
  '#59A14F',
  '#E15759',
  '#76B7B2',
  '#EDC948',
  '#B07AA1',
  '#FF9DA7',
  '#9C755F',
  '#BAB0AC',
];

const FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";
const INK = '#222';
const MUTED = '#666';
const GRID = '#e4e4e4';

/** How y values are printed on ticks: fractions as percent, or plain numbers. */
export type ValueFormat = 'percent' | 'number';

export interface BarSeries {
  readonly name: string;
  /** One value per category; null = undefined (drawn as an "n/a" tick). */
  readonly values: ReadonlyArray<number | null>;
  /** Optional ± half-width per category (e.g. a std over seeds), drawn as a whisker; null = none. */
  readonly errors?: ReadonlyArray<number | null>;
  readonly color?: string;
}

export interface BarChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  /** Category (class) labels along x. */
  readonly categories: ReadonlyArray<string>;
  readonly series: ReadonlyArray<BarSeries>;
  readonly yLabel: string;
  readonly xLabel?: string;
  /** 'percent' prints 0.5 as 50% (default 'number'). */
  readonly yFormat?: ValueFormat;
  /** Fixed y maximum (e.g. 1 for fractions); default: nice ceiling of the data. */
  readonly yMax?: number;
  /** Category indices to shade (e.g. tail classes) with `highlightLabel` in the legend. */
  readonly highlight?: ReadonlyArray<number>;
  readonly highlightLabel?: string;
  /** Print each bar's value above it when the bars are wide enough (default false). */
  readonly valueLabels?: boolean;
  readonly width?: number;
  readonly height?: number;
}

export interface LinePoint {
  readonly x: number;
  readonly y: number;
}

export interface LineSeries {
  readonly name: string;
  readonly points: ReadonlyArray<LinePoint>;
  readonly color?: string;
  readonly dashed?: boolean;
}

export interface LineChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  readonly series: ReadonlyArray<LineSeries>;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly yFormat?: ValueFormat;
  readonly yMin?: number;
  readonly yMax?: number;
  /** Vertical reference lines, e.g. the end of DASO's warm-up. */
  readonly markers?: ReadonlyArray<{ readonly x: number; readonly label: string }>;
  readonly width?: number;
  readonly height?: number;
}

/** Escapes text for SVG/XML content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch] ?? ch);
}

/** Fixed-precision number for coordinates (no exponent, no NaN: callers pass finite values). */
function f(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/** "Nice" tick step (1, 2, 2.5, 5 x 10^k) giving about `target` ticks over [0, span]. */
export function niceStep(span: number, target = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / target;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return nice * mag;
}

function formatTick(v: number, fmt: ValueFormat, step: number, thousands = false): string {
  if (fmt === 'percent') {
    const p = v * 100;
    const decimals = step * 100 >= 1 ? 0 : 1;
    return `${p.toFixed(decimals)}%`;
  }
  // One unit per axis: all ticks in k once the axis reaches 10,000.
  if (thousands && v !== 0) return `${f(v / 1000)}k`;
  const decimals = step >= 1 ? 0 : Math.min(4, Math.ceil(-Math.log10(step)));
  return v.toFixed(decimals);
}

function text(
  x: number,
  y: number,
  s: string,
  opts: { size?: number; anchor?: 'start' | 'middle' | 'end'; weight?: string; fill?: string; rotate?: number } = {},
): string {
  const rot = opts.rotate ? ` transform="rotate(${opts.rotate} ${f(x)} ${f(y)})"` : '';
  return (
    `<text x="${f(x)}" y="${f(y)}" font-family="${FONT}" font-size="${opts.size ?? 12}" ` +
    `text-anchor="${opts.anchor ?? 'start'}" font-weight="${opts.weight ?? 'normal'}" fill="${opts.fill ?? INK}"${rot}>` +
    `${escapeXml(s)}</text>`
  );
}

/** Approximate rendered width of `s` in DejaVu Sans at `size` px (for legend layout). */
function textWidth(s: string, size: number): number {
  return s.length * size * 0.6;
}

interface Frame {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

function legendAndTitle(
  width: number,
  title: string,
  subtitle: string | undefined,
  entries: ReadonlyArray<{ name: string; color: string; kind: 'box' | 'line' | 'dash' | 'shade' }>,
): { svg: string; height: number } {
  const parts: string[] = [text(16, 26, title, { size: 17, weight: 'bold' })];
  let y = 26;
  if (subtitle) {
    // Wrap at ' · ' separators (or spaces) so long settings lines stay inside the image.
    const maxChars = Math.floor((width - 32) / (12 * 0.6));
    const tokens = subtitle.includes(' · ') ? subtitle.split(' · ') : subtitle.split(' ');
    const sep = subtitle.includes(' · ') ? ' · ' : ' ';
    let line = '';
    for (const t of tokens) {
      const next = line ? `${line}${sep}${t}` : t;
      if (next.length > maxChars && line) {
        y += 18;
        parts.push(text(16, y, line, { size: 12, fill: MUTED }));
        line = t;
      } else line = next;
    }
    y += 18;
    parts.push(text(16, y, line, { size: 12, fill: MUTED }));
  }
  // Legend rows, wrapped to the width.
  y += 22;
  let x = 16;
  for (const e of entries) {
    const w = 22 + textWidth(e.name, 12) + 18;
    if (x + w > width - 8 && x > 16) {
      x = 16;
      y += 20;
    }
    if (e.kind === 'box') parts.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" rx="2" fill="${e.color}"/>`);
    else if (e.kind === 'shade') parts.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${e.color}" stroke="#ccc"/>`);
    else {
      const dash = e.kind === 'dash' ? ' stroke-dasharray="5 3"' : '';
      parts.push(`<line x1="${x - 2}" y1="${y - 4}" x2="${x + 16}" y2="${y - 4}" stroke="${e.color}" stroke-width="2.5"${dash}/>`);
    }
    parts.push(text(x + 20, y, e.name, { size: 12 }));
    x += w;
  }
  return { svg: parts.join(''), height: y + 14 };
}

function yAxis(
  frame: Frame,
  yMin: number,
  yMax: number,
  step: number,
  fmt: ValueFormat,
  yLabel: string,
  plotWidth: number,
): { svg: string; y: (v: number) => number } {
  const h = frame.bottom - frame.top;
  const y = (v: number): number => frame.bottom - ((v - yMin) / (yMax - yMin)) * h;
  const parts: string[] = [];
  const first = Math.ceil(yMin / step - 1e-9) * step;
  for (let v = first; v <= yMax + step * 1e-6; v += step) {
    const yy = y(v);
    parts.push(`<line x1="${f(frame.left)}" y1="${f(yy)}" x2="${f(frame.left + plotWidth)}" y2="${f(yy)}" stroke="${GRID}" stroke-width="1"/>`);
    parts.push(text(frame.left - 8, yy + 4, formatTick(v, fmt, step, yMax >= 10000), { size: 11, anchor: 'end', fill: MUTED }));
  }
  const cy = (frame.top + frame.bottom) / 2;
  parts.push(text(18, cy, yLabel, { size: 12, anchor: 'middle', rotate: -90, fill: INK }));
  return { svg: parts.join(''), y };
}

function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Grouped bar chart: one group per category, one bar per series. Returns a standalone SVG document. */
export function barChartSvg(spec: BarChartSpec): string {
  const width = spec.width ?? Math.max(640, Math.min(1600, 120 + spec.categories.length * (18 + 12 * spec.series.length)));
  const height = spec.height ?? 440;
  const fmt = spec.yFormat ?? 'number';
  const colors = spec.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  const entries: Array<{ name: string; color: string; kind: 'box' | 'shade' }> = spec.series.map((s, i) => ({
    name: s.name,
    color: colors[i],
    kind: 'box',
  }));
  if (spec.highlight && spec.highlight.length > 0) {
    entries.push({ name: spec.highlightLabel ?? 'highlighted', color: '#f3efe4', kind: 'shade' });
  }
  const head = legendAndTitle(width, spec.title, spec.subtitle, entries);
  const n = spec.categories.length;
  const rotateLabels = n > 12 || spec.categories.some((c) => c.length > 8);
  // A label rotated by 45 degrees drops about 0.5 em per character.
  const labelSpace = rotateLabels ? Math.min(90, 16 + 4.8 * Math.max(...spec.categories.map((c) => c.length), 1)) : 22;
  const frame: Frame = { left: 64, top: head.height + 10, right: width - 20, bottom: height - labelSpace - (spec.xLabel ? 22 : 6) };
  let dataMax = 0;
  for (const s of spec.series) {
    s.values.forEach((v, c) => {
      if (finite(v)) dataMax = Math.max(dataMax, v + (finite(s.errors?.[c]) ? (s.errors?.[c] as number) : 0));
    });
  }
  // Headroom above the tallest bar, more when values are printed on top.
  const padded = dataMax * (spec.valueLabels ? 1.1 : 1.02);
  const ceilStep = niceStep(padded, 8);
  const yMax = spec.yMax ?? (dataMax > 0 ? Math.ceil(padded / ceilStep - 1e-9) * ceilStep : 1);
  const step = niceStep(yMax);
  const plotW = frame.right - frame.left;
  const axis = yAxis(frame, 0, yMax, step, fmt, spec.yLabel, plotW);
  const groupW = plotW / Math.max(1, n);
  const inner = groupW * 0.8;
  const barW = inner / Math.max(1, spec.series.length);
  const parts: string[] = [];
  // Shade runs of consecutive highlighted categories as one rectangle (no seams between them).
  const hl = [...new Set(spec.highlight ?? [])].filter((c) => c >= 0 && c < n).sort((a, b) => a - b);
  for (let i = 0; i < hl.length; ) {
    let j = i;
    while (j + 1 < hl.length && hl[j + 1] === hl[j] + 1) j++;
    const x0 = frame.left + hl[i] * groupW;
    parts.push(`<rect x="${f(x0)}" y="${f(frame.top)}" width="${f((hl[j] - hl[i] + 1) * groupW)}" height="${f(frame.bottom - frame.top)}" fill="#f3efe4"/>`);
    i = j + 1;
  }
  parts.push(axis.svg);
  const labelEvery = Math.max(1, Math.ceil(n / 50));
  for (let c = 0; c < n; c++) {
    const gx = frame.left + c * groupW + (groupW - inner) / 2;
    spec.series.forEach((s, i) => {
      const v = s.values[c];
      const x = gx + i * barW;
      if (finite(v)) {
        const clamped = Math.min(Math.max(v, 0), yMax);
        const y = axis.y(clamped);
        const hgt = frame.bottom - y;
        parts.push(
          `<rect x="${f(x + 0.5)}" y="${f(y)}" width="${f(Math.max(1, barW - 1))}" height="${f(hgt)}" fill="${colors[i]}">` +
            `<title>${escapeXml(`${s.name} · ${spec.categories[c]}: ${formatTick(v, fmt, fmt === 'percent' ? 0.001 : 0.01)}`)}</title></rect>`,
        );
        const e = s.errors?.[c];
        if (finite(e) && e > 0) {
          const cx = x + barW / 2;
          const top = axis.y(Math.min(v + e, yMax));
          const bottom = axis.y(Math.max(v - e, 0));
          const cap = Math.min(6, barW / 3);
          parts.push(
            `<path d="M${f(cx)} ${f(top)}V${f(bottom)}M${f(cx - cap)} ${f(top)}H${f(cx + cap)}M${f(cx - cap)} ${f(bottom)}H${f(cx + cap)}" stroke="${INK}" stroke-width="1.2" fill="none"/>`,
          );
        }
        if (spec.valueLabels && barW >= 20) {
          const label = fmt === 'percent' ? `${Math.round(v * 100)}` : formatTick(v, fmt, Number.isInteger(v) ? 1 : 0.01, v >= 10000);
          parts.push(text(x + barW / 2, y - 4, label, { size: 10, anchor: 'middle', fill: MUTED }));
        }
      } else {
        parts.push(`<line x1="${f(x + 1)}" y1="${f(frame.bottom - 3)}" x2="${f(x + barW - 1)}" y2="${f(frame.bottom - 3)}" stroke="#aaa" stroke-width="2"/>`);
        if (barW >= 16) parts.push(text(x + barW / 2, frame.bottom - 8, 'n/a', { size: 9, anchor: 'middle', fill: '#999' }));
      }
    });
    if (c % labelEvery === 0) {
      const lx = frame.left + (c + 0.5) * groupW;
      if (rotateLabels) parts.push(text(lx + 4, frame.bottom + 12, spec.categories[c], { size: 11, anchor: 'end', rotate: -45, fill: INK }));
      else parts.push(text(lx, frame.bottom + 16, spec.categories[c], { size: 11, anchor: 'middle', fill: INK }));
    }
  }
  parts.push(`<line x1="${f(frame.left)}" y1="${f(frame.bottom)}" x2="${f(frame.right)}" y2="${f(frame.bottom)}" stroke="#888" stroke-width="1"/>`);
  if (spec.xLabel) parts.push(text((frame.left + frame.right) / 2, height - 8, spec.xLabel, { size: 12, anchor: 'middle' }));
  return svgDocument(width, height, head.svg + parts.join(''));
}

/** Line chart over x (training steps). Returns a standalone SVG document. */
export function lineChartSvg(spec: LineChartSpec): string {
  const width = spec.width ?? 900;
  const height = spec.height ?? 420;
  const fmt = spec.yFormat ?? 'number';
  const colors = spec.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  const head = legendAndTitle(
    width,
    spec.title,
    spec.subtitle,
    spec.series.map((s, i) => ({ name: s.name, color: colors[i], kind: s.dashed ? ('dash' as const) : ('line' as const) })),
  );
  const frame: Frame = { left: 64, top: head.height + 10, right: width - 24, bottom: height - 50 };
  const pts = spec.series.flatMap((s) => s.points.filter((p) => finite(p.x) && finite(p.y)));
  let xMin = pts.length ? Math.min(...pts.map((p) => p.x)) : 0;
  let xMax = pts.length ? Math.max(...pts.map((p) => p.x)) : 1;
  for (const m of spec.markers ?? []) {
    if (!finite(m.x)) continue;
    xMin = Math.min(xMin, m.x);
    xMax = Math.max(xMax, m.x);
  }
  if (xMax <= xMin) xMax = xMin + 1;
  let yLo = spec.yMin ?? (pts.length ? Math.min(0, ...pts.map((p) => p.y)) : 0);
  let yHi = spec.yMax ?? (pts.length ? Math.max(...pts.map((p) => p.y)) : 1);
  if (!(yHi > yLo)) yHi = yLo + 1;
  const step = niceStep(yHi - yLo);
  if (spec.yMax === undefined) yHi = Math.ceil(yHi / step - 1e-9) * step;
  if (spec.yMin === undefined) yLo = Math.floor(yLo / step + 1e-9) * step;
  const plotW = frame.right - frame.left;
  const axis = yAxis(frame, yLo, yHi, step, fmt, spec.yLabel, plotW);
  const x = (v: number): number => frame.left + ((v - xMin) / (xMax - xMin)) * plotW;
  const parts: string[] = [axis.svg];
  // x ticks
  const xStep = niceStep(xMax - xMin, 6);
  for (let v = Math.ceil(xMin / xStep) * xStep; v <= xMax + xStep * 1e-6; v += xStep) {
    const xx = x(v);
    parts.push(`<line x1="${f(xx)}" y1="${f(frame.bottom)}" x2="${f(xx)}" y2="${f(frame.bottom + 4)}" stroke="#888"/>`);
    parts.push(text(xx, frame.bottom + 18, formatTick(v, 'number', xStep, xMax >= 10000), { size: 11, anchor: 'middle', fill: MUTED }));
  }
  for (const m of spec.markers ?? []) {
    if (!finite(m.x)) continue;
    const xx = x(m.x);
    parts.push(`<line x1="${f(xx)}" y1="${f(frame.top)}" x2="${f(xx)}" y2="${f(frame.bottom)}" stroke="#999" stroke-dasharray="4 4"/>`);
    parts.push(text(xx + 4, frame.top + 12, m.label, { size: 11, fill: MUTED }));
  }
  spec.series.forEach((s, i) => {
    // Break the path at non-finite points rather than drawing NaN.
    const segs: string[] = [];
    let pen = 'M';
    for (const p of s.points) {
      if (!finite(p.x) || !finite(p.y)) {
        pen = 'M';
        continue;
      }
      const yy = axis.y(Math.min(Math.max(p.y, yLo), yHi));
      segs.push(`${pen}${f(x(p.x))},${f(yy)}`);
      pen = 'L';
    }
    if (segs.length === 0) return;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${segs.join(' ')}" fill="none" stroke="${colors[i]}" stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round"${dash}/>`);
    const finitePts = s.points.filter((p) => finite(p.x) && finite(p.y));
    if (finitePts.length <= 40) {
      for (const p of finitePts) {
        parts.push(`<circle cx="${f(x(p.x))}" cy="${f(axis.y(Math.min(Math.max(p.y, yLo), yHi)))}" r="2.6" fill="${colors[i]}"/>`);
      }
    }
  });
  parts.push(`<line x1="${f(frame.left)}" y1="${f(frame.bottom)}" x2="${f(frame.right)}" y2="${f(frame.bottom)}" stroke="#888"/>`);
  parts.push(text((frame.left + frame.right) / 2, height - 10, spec.xLabel, { size: 12, anchor: 'middle' }));
  return svgDocument(width, height, head.svg + parts.join(''));
}

function svgDocument(width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>${body}</svg>`
  );
}

/** A heat map: rows (classes) × columns (training windows), each cell coloured by its value; one or more panels side by side. */
export interface HeatMapSpec {
  readonly title: string;
  readonly subtitle?: string;
  /** Row labels, top to bottom. */
  readonly rows: ReadonlyArray<string>;
  /** Column labels, left to right (e.g. the last step of each window). */
  readonly columns: ReadonlyArray<string>;
  /** Panels sharing rows, columns and the colour scale (e.g. recall and precision); values[row][column], null = undefined (grey). */
  readonly panels: ReadonlyArray<{ readonly name: string; readonly values: ReadonlyArray<ReadonlyArray<number | null>> }>;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Colour scale ends (default 0 and 1). */
  readonly vMin?: number;
  readonly vMax?: number;
  /** 'percent' prints 0.5 as 50% on the colour bar and in cells (default 'percent'). */
  readonly format?: ValueFormat;
  /** Row indices to frame and set in bold (e.g. tail classes). */
  readonly highlightRows?: ReadonlyArray<number>;
  readonly width?: number;
}

/** Viridis at 6 stops, interpolated: dark purple (low) → yellow (high), readable in grey print. */
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84],
  [65, 68, 135],
  [42, 120, 142],
  [34, 168, 132],
  [122, 209, 81],
  [253, 231, 37],
];

/** The colour of t in [0, 1] on the viridis scale. */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const u = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  const hex = (k: number): string => Math.round(a[k] + (b[k] - a[k]) * u).toString(16).padStart(2, '0');
  return `#${hex(0)}${hex(1)}${hex(2)}`;
}

/** Heat map SVG (standalone document): its panels side by side, one colour bar; undefined cells grey. */
export function heatMapSvg(spec: HeatMapSpec): string {
  const nr = spec.rows.length;
  const nc = spec.columns.length;
  const np = Math.max(1, spec.panels.length);
  const fmt = spec.format ?? 'percent';
  const vMin = spec.vMin ?? 0;
  const vMax = spec.vMax ?? 1;
  const width = spec.width ?? Math.max(700, Math.min(1600, 230 + np * (40 + nc * 30)));
  const head = legendAndTitle(width, spec.title, spec.subtitle, []);
  const labelW = Math.min(140, 20 + 6.6 * Math.max(1, ...spec.rows.map((r) => r.length)));
  const left = 40 + labelW;
  const right = width - 90;
  const gap = 24;
  const panelW = (right - left - gap * (np - 1)) / np;
  const cellW = panelW / Math.max(1, nc);
  const cellH = Math.max(14, Math.min(30, 360 / Math.max(1, nr)));
  const top = head.height + 22;
  const bottom = top + nr * cellH;
  const height = bottom + 58;
  const hl = new Set((spec.highlightRows ?? []).filter((r) => r >= 0 && r < nr));
  const parts: string[] = [];
  for (let r = 0; r < nr; r++) {
    parts.push(text(left - 8, top + r * cellH + cellH / 2 + 4, spec.rows[r], { size: 11, anchor: 'end', weight: hl.has(r) ? 'bold' : 'normal', fill: INK }));
  }
  spec.panels.forEach((panel, p) => {
    const x0 = left + p * (panelW + gap);
    parts.push(text(x0 + panelW / 2, top - 8, panel.name, { size: 13, anchor: 'middle', weight: 'bold' }));
    for (let r = 0; r < nr; r++) {
      const y = top + r * cellH;
      for (let c = 0; c < nc; c++) {
        const v = panel.values[r]?.[c];
        const x = x0 + c * cellW;
        const t = finite(v) ? (v - vMin) / Math.max(1e-12, vMax - vMin) : null;
        const tip = `${panel.name} · ${spec.rows[r]} · ${spec.columns[c]}: ${finite(v) ? formatTick(v, fmt, 0.001) : 'n/a'}`;
        parts.push(`<rect x="${f(x)}" y="${f(y)}" width="${f(cellW + 0.3)}" height="${f(cellH + 0.3)}" fill="${t === null ? '#e3e3e3' : viridis(t)}"><title>${escapeXml(tip)}</title></rect>`);
        if (cellW >= 26 && t !== null) {
          const label = fmt === 'percent' ? `${Math.round((v as number) * 100)}` : (v as number).toFixed(2);
          parts.push(text(x + cellW / 2, y + cellH / 2 + 4, label, { size: 10, anchor: 'middle', fill: t > 0.6 ? INK : '#fff' }));
        }
      }
    }
    // Highlighted rows framed, so they are found without colour.
    for (const r of hl) parts.push(`<rect x="${f(x0)}" y="${f(top + r * cellH)}" width="${f(nc * cellW)}" height="${f(cellH)}" fill="none" stroke="${INK}" stroke-width="1.5"/>`);
    const every = Math.max(1, Math.ceil(nc / Math.max(1, Math.floor(panelW / 40))));
    for (let c = 0; c < nc; c += every) parts.push(text(x0 + (c + 0.5) * cellW, bottom + 15, spec.columns[c], { size: 10, anchor: 'middle', fill: MUTED }));
  });
  parts.push(text((left + right) / 2, bottom + 36, spec.xLabel, { size: 12, anchor: 'middle' }));
  parts.push(text(16, (top + bottom) / 2, spec.yLabel, { size: 12, anchor: 'middle', rotate: -90 }));
  const bx = right + 24;
  const bh = bottom - top;
  const steps = 24;
  for (let i = 0; i < steps; i++) {
    parts.push(`<rect x="${f(bx)}" y="${f(top + (i * bh) / steps)}" width="14" height="${f(bh / steps + 0.5)}" fill="${viridis(1 - i / (steps - 1))}"/>`);
  }
  for (const [v, y] of [[vMax, top + 8], [(vMin + vMax) / 2, top + bh / 2 + 4], [vMin, bottom]] as const) {
    parts.push(text(bx + 18, y, formatTick(v, fmt, fmt === 'percent' ? 0.01 : 0.1), { size: 10, fill: MUTED }));
  }
  parts.push(`<rect x="${f(bx)}" y="${f(bottom + 8)}" width="14" height="10" fill="#e3e3e3"/>`);
  parts.push(text(bx + 18, bottom + 17, 'n/a', { size: 10, fill: MUTED }));
  return svgDocument(width, height, head.svg + parts.join(''));
}

/**
 * Renders an SVG document to PNG bytes with sharp.
 * @param scale pixel density multiplier (2 = crisp on high-DPI screens; default 1.5)
 */
export async function svgToPng(svg: string, scale = 1.5): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 72 * scale }).png({ compressionLevel: 9 }).toBuffer();
}
