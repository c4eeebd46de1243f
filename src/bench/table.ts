/** Markdown tables for benchmark results (pasteable into the README). @module */

/** Renders rows as a Markdown table with the given column order. */
export function markdownTable(
  columns: string[],
  rows: Array<Record<string, string | number>>,
): string {
  const cell = (v: string | number | undefined) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : (v ?? '')
  const lines = [
    `| ${columns.join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${columns.map((c) => cell(r[c])).join(' | ')} |`),
  ]
  return lines.join('\n')
}
