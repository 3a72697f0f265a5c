/** Escapes text for a Markdown table cell: no markup, no cell breaks, no line breaks. */
export function cell(text: string | number | null | undefined): string {
  if (text === null || text === undefined || text === '') return '—';
  return String(text)
    .replace(/[\\`*_{}[\]()#+\-.!<>|~]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ');
}
