import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The benchmark document; `npm run bench` writes its last full run between the markers. */
export const BENCHMARKS_DOC = path.resolve(__dirname, '../../docs/benchmarks.md');
const START = '<!-- bench:start (written by npm run bench; do not edit by hand) -->';
const END = '<!-- bench:end -->';

/**
 * Puts `lines` between the markers of docs/benchmarks.md, replacing the last run's figures, so
 * the figures there are the benchmark's own output and never a hand edit. A partial run (`--only`)
 * leaves the document alone: it would drop the other scenarios' rows.
 */
export async function writeBenchmarkFigures(lines: readonly string[]): Promise<void> {
  const document = await readFile(BENCHMARKS_DOC, 'utf8');
  const start = document.indexOf(START);
  const end = document.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${BENCHMARKS_DOC} has no ${START} … ${END} block to write the figures into`);
  await writeFile(BENCHMARKS_DOC, `${document.slice(0, start + START.length)}\n${lines.join('\n')}\n${document.slice(end)}`);
}
