import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { barChartSvg, escapeXml, heatMapSvg, lineChartSvg, niceStep, svgToPng, viridis } from '../../src/report/charts.js';

describe('charts', () => {
  it('a grouped bar chart with null and NaN values renders to a PNG of the declared size, with no NaN in the SVG', async () => {
    const svg = barChartSvg({
      title: 'Recall <per> class & more',
      subtitle: 'a · b',
      categories: ['0', '1', '2'],
      series: [
        { name: 'FixMatch', values: [0.9, null, 0.1] },
        { name: 'DASO', values: [0.8, Number.NaN, 0.5] },
      ],
      yLabel: 'recall',
      yFormat: 'percent',
      yMax: 1,
      highlight: [2],
      width: 600,
      height: 400,
    });
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(svg).toContain('Recall &lt;per&gt; class &amp; more');
    expect(svg).toContain('100%');
    const png = await svgToPng(svg, 1);
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([600, 400]);
  });

  it('a line chart breaks at non-finite points and scales with the density', async () => {
    const svg = lineChartSvg({
      title: 'Accuracy',
      series: [
        { name: 'test', points: [{ x: 500, y: 0.2 }, { x: 1000, y: Number.NaN }, { x: 1500, y: 0.6 }] },
        { name: 'val', dashed: true, points: [] },
      ],
      xLabel: 'step',
      yLabel: 'accuracy',
      yFormat: 'percent',
      markers: [{ x: 1000, label: 'warm-up ends' }],
      width: 500,
      height: 300,
    });
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    // two separate moves: the path restarts after the NaN point
    expect((svg.match(/<path d="M[^"]*"/)?.[0].match(/M/g) ?? []).length).toBe(2);
    const meta = await sharp(await svgToPng(svg, 2)).metadata();
    expect([meta.width, meta.height]).toEqual([1000, 600]);
  });

  it('error bars: a whisker per bar with a ± half-width, none for null, and the axis makes room for the top', () => {
    const svg = barChartSvg({
      title: 'Balanced accuracy',
      categories: ['γ_u = 100', 'γ_u = 1'],
      series: [{ name: 'fixmatch', values: [0.5, 0.6], errors: [0.05, null] }],
      yLabel: 'accuracy',
      width: 600,
      height: 400,
    });
    // One whisker: a vertical line and two caps in one path.
    expect(svg.match(/<path d="M[\d.]+ [\d.]+V[\d.]+M/g)).toHaveLength(1);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('a heat map has one cell per class and window in each panel, grey for undefined, and renders', async () => {
    const svg = heatMapSvg({
      title: 'PL',
      rows: ['a', 'b'],
      columns: ['10', '20', '30'],
      panels: [
        { name: 'recall', values: [[0, 0.5, 1], [null, 0.25, Number.NaN]] },
        { name: 'precision', values: [[1, 1, 1], [1, 1, 1]] },
      ],
      xLabel: 'step',
      yLabel: 'class',
      highlightRows: [1],
    });
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(2 * 2 * 3);
    // The two undefined cells are grey; 0 and 1 are the ends of the scale.
    expect(svg.match(/fill="#e3e3e3"><title>/g)).toHaveLength(2);
    expect(viridis(0)).toBe('#440154');
    expect(viridis(1)).toBe('#fde725');
    expect(svg).toContain(`fill="${viridis(0.5)}"><title>recall · a · 20: 50.0%</title>`);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect((await sharp(await svgToPng(svg, 1)).metadata()).format).toBe('png');
  });

  it('niceStep picks 1-2-2.5-5 steps', () => {
    expect(niceStep(1)).toBe(0.2);
    expect(niceStep(3000)).toBe(1000);
    expect(niceStep(10000, 6)).toBe(2000);
    expect(niceStep(0)).toBe(1);
  });

  it('escapes XML', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});
