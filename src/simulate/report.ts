/**
 * How simulation results are shown: a terminal table (one column per configuration) and an SVG
 * chart of goodput and latency over time (one line per configuration), without dependencies.
 */
import type { ConfigurationResult } from './run.js';

function ms(v: number | undefined): string {
  if (v === undefined) return '–';
  if (v === Infinity) return 'unfinished';
  if (v < 1000) return `${v.toFixed(0)} ms`;
  if (v < 120_000) return `${(v / 1000).toFixed(1)} s`;
  return `${(v / 60_000).toFixed(1)} min`;
}

function int(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

/** The figures as rows (label, one value per configuration). */
export function tableRows(results: readonly ConfigurationResult[]): string[][] {
  const ref = results[0];
  const rows: Array<[string, (r: ConfigurationResult) => string]> = [
    ['tiers (attempt budget)', (r) => `${r.tiers} (${r.attemptBudget})`],
    ['tasks', (r) => int(r.tasks)],
    ['good-task goodput /s', (r) => r.goodputPerSecond.toFixed(1)],
    ['  ratio to first column', (r) => (ref && ref.goodputPerSecond > 0 ? (r.goodputPerSecond / ref.goodputPerSecond).toFixed(2) : '–')],
    ['good tasks succeeded', (r) => `${int(r.goodSucceeded)} of ${int(r.goodTasks)}`],
    ['good-task latency p50', (r) => ms(r.latencyP50Ms)],
    ['good-task latency p99', (r) => ms(r.latencyP99Ms)],
    ['amplification (dispatches/task)', (r) => r.amplification.toFixed(2)],
    ['dispatches on poison', (r) => `${int(r.poisonDispatches)} (${r.dispatches > 0 ? ((r.poisonDispatches / r.dispatches) * 100).toFixed(0) : 0} %)`],
    ['rejected at capacity (429)', (r) => int(r.rejectedDispatches)],
    ['poison leaves tier 1 p50 / p99', (r) => `${ms(r.poisonLeaveTier1P50Ms)} / ${ms(r.poisonLeaveTier1P99Ms)}`],
    ['failed (budget spent)', (r) => int(r.failedTasks)],
    ['still waiting at the end', (r) => int(r.waiting)],
    ['busy instance-seconds', (r) => int(r.busyInstanceSeconds)],
    ['cost estimate', (r) => r.costEstimate.toFixed(2)],
    ['simulated in', (r) => `${(r.wallMs / 1000).toFixed(1)} s`],
  ];
  return [['', ...results.map((r) => r.name)], ...rows.map(([label, f]) => [label, ...results.map(f)])];
}

/** The table as aligned text. */
export function formatTable(results: readonly ConfigurationResult[]): string {
  const rows = tableRows(results);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Two stacked panels: good-task goodput (/s) and good-task p99 latency (log scale) over time. */
export function formatSvg(results: readonly ConfigurationResult[], title = 'executor simulate'): string {
  const W = 760;
  const panelH = 220;
  const left = 70;
  const right = 20;
  const top = 40;
  const gap = 60;
  const plotW = W - left - right;
  const H = top + panelH * 2 + gap + 60;
  const maxT = Math.max(1, ...results.flatMap((r) => r.intervals.map((i) => i.startS)));
  const x = (t: number): number => left + (t / maxT) * plotW;
  const maxGoodput = Math.max(1, ...results.flatMap((r) => r.intervals.map((i) => i.goodput))) * 1.1;
  const lat = results.flatMap((r) => r.intervals.flatMap((i) => (i.p99Ms !== undefined ? [i.p99Ms] : [])));
  const minLat = Math.max(1, Math.min(...lat, 10));
  const maxLat = Math.max(minLat * 10, ...lat);
  const lo = Math.floor(Math.log10(minLat));
  const hi = Math.ceil(Math.log10(maxLat));
  const y1 = (v: number): number => top + panelH - (v / maxGoodput) * panelH;
  const top2 = top + panelH + gap;
  const y2 = (v: number): number => top2 + panelH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * panelH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  // Axes and grid.
  for (let i = 0; i <= 4; i++) {
    const v = (maxGoodput / 4) * i;
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y1(v).toFixed(1)}" y2="${y1(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${(y1(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(0)}</text>`);
  }
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y2(v).toFixed(1)}" y2="${y2(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${(y2(v) + 4).toFixed(1)}" text-anchor="end">${ms(v)}</text>`);
  }
  for (let i = 0; i <= 6; i++) {
    const t = (maxT / 6) * i;
    out.push(`<text x="${x(t).toFixed(1)}" y="${top2 + panelH + 18}" text-anchor="middle">${(t / 60).toFixed(t / 60 < 10 ? 1 : 0)} min</text>`);
  }
  out.push(`<text x="${left}" y="${top - 8}">good-task goodput (successes/s)</text>`);
  out.push(`<text x="${left}" y="${top2 - 8}">good-task latency p99, creation to success (log scale)</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${panelH}" fill="none" stroke="#999"/>`);
  out.push(`<rect x="${left}" y="${top2}" width="${plotW}" height="${panelH}" fill="none" stroke="#999"/>`);
  results.forEach((r, k) => {
    const color = COLORS[k % COLORS.length]!;
    const g = r.intervals.map((i) => `${x(i.startS).toFixed(1)},${y1(i.goodput).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${g}"/>`);
    const l = r.intervals.flatMap((i) => (i.p99Ms !== undefined ? [`${x(i.startS).toFixed(1)},${y2(i.p99Ms).toFixed(1)}`] : [])).join(' ');
    if (l !== '') out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${l}"/>`);
    const ly = H - 20;
    const lx = left + k * 180;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 30}" y="${ly}">${escapeXml(r.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
