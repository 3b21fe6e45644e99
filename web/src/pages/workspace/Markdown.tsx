// A small Markdown renderer for notes: headings, paragraphs, emphasis, inline
// code, fenced code, block quotes, (task) lists, rules and links. It builds
// React elements from text, so note content can never inject HTML; links are
// kept only for http(s), mailto and in-app paths.

import type { ReactNode } from 'react';

const SAFE_URL = /^(https?:\/\/|mailto:|\/(?!\/)|#)/i;

// Order matters: code first (its content is literal), then links, then emphasis.
const INLINE =
  /(`+)([\s\S]*?[^`])\1(?!`)|\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])|\*\*([\s\S]+?)\*\*|__([\s\S]+?)__|~~([\s\S]+?)~~|\*([^*\s](?:[\s\S]*?[^*\s])?)\*|(?<![\w])_([^_\s](?:[\s\S]*?[^_\s])?)_(?![\w])/g;

function inline(text: string, key = 'i'): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let n = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const k = `${key}.${n++}`;
    if (m[2] !== undefined) out.push(<code key={k}>{m[2]}</code>);
    else if (m[3] !== undefined) {
      const href = m[4];
      out.push(
        SAFE_URL.test(href) ? (
          <a key={k} href={href} target="_blank" rel="noopener noreferrer">
            {inline(m[3], k)}
          </a>
        ) : (
          <span key={k}>{inline(m[3], k)}</span>
        ),
      );
    } else if (m[5] !== undefined) {
      out.push(
        <a key={k} href={m[5]} target="_blank" rel="noopener noreferrer">
          {m[5]}
        </a>,
      );
    } else if (m[6] !== undefined || m[7] !== undefined) out.push(<strong key={k}>{inline(m[6] ?? m[7], k)}</strong>);
    else if (m[8] !== undefined) out.push(<del key={k}>{inline(m[8], k)}</del>);
    else out.push(<em key={k}>{inline(m[9] ?? m[10], k)}</em>);
    last = at + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const FENCE = /^\s*(```|~~~)/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^\s*>\s?/;
const BULLET = /^\s*[-*+]\s+/;
const ORDERED = /^\s*\d+[.)]\s+/;
const TASK = /^\[([ xX])\]\s+/;

function blocks(src: string, key = 'b'): ReactNode[] {
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const out: ReactNode[] = [];
  let i = 0;
  const k = () => `${key}.${out.length}`;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;
      out.push(
        <pre key={k()}>
          <code>{body.join('\n')}</code>
        </pre>,
      );
      continue;
    }
    const h = HEADING.exec(line);
    if (h) {
      const Tag = `h${h[1].length}` as 'h1';
      out.push(<Tag key={k()}>{inline(h[2], k())}</Tag>);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      out.push(<hr key={k()} />);
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i])) body.push(lines[i++].replace(QUOTE, ''));
      out.push(<blockquote key={k()}>{blocks(body.join('\n'), k())}</blockquote>);
      continue;
    }
    const list = BULLET.test(line) ? BULLET : ORDERED.test(line) ? ORDERED : null;
    if (list) {
      const items: string[] = [];
      // Items, and indented lines that continue the item above them.
      while (i < lines.length && lines[i].trim()) {
        if (list.test(lines[i])) items.push(lines[i].replace(list, ''));
        else if (items.length && /^\s+/.test(lines[i])) items[items.length - 1] += ' ' + lines[i].trim();
        else break;
        i++;
      }
      const lk = k();
      const children = items.map((item, n) => {
        const task = TASK.exec(item);
        return task ? (
          <li key={n} className="bm-md-task">
            <input type="checkbox" checked={task[1] !== ' '} readOnly disabled /> {inline(item.slice(task[0].length), `${lk}.${n}`)}
          </li>
        ) : (
          <li key={n}>{inline(item, `${lk}.${n}`)}</li>
        );
      });
      out.push(list === BULLET ? <ul key={lk}>{children}</ul> : <ol key={lk}>{children}</ol>);
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      lines[i].trim() &&
      !FENCE.test(lines[i]) &&
      !HEADING.test(lines[i]) &&
      !QUOTE.test(lines[i]) &&
      !BULLET.test(lines[i]) &&
      !ORDERED.test(lines[i]) &&
      !RULE.test(lines[i])
    ) {
      para.push(lines[i++].trim());
    }
    const pk = k();
    // A line ending in two spaces or a backslash breaks the line, as in GFM; other newlines are spaces.
    const parts: ReactNode[] = [];
    para.forEach((l, n) => {
      if (n) parts.push(/( {2}|\\)$/.test(para[n - 1]) ? <br key={`${pk}.br${n}`} /> : ' ');
      parts.push(...inline(l.replace(/\\$/, ''), `${pk}.${n}`));
    });
    out.push(<p key={pk}>{parts}</p>);
  }
  return out;
}

export default function Markdown({ source, empty }: { source: string; empty?: ReactNode }) {
  const rendered = blocks(source);
  return <div className="bm-md">{rendered.length ? rendered : empty}</div>;
}

/** The first `max` characters of the text without Markdown syntax, for previews. */
export function plainPreview(src: string, max = 100): string {
  const text = src
    .replace(/```[\s\S]*?(```|$)/g, ' ')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+(\[[ xX]\]\s+)?/gm, '')
    .replace(/[*_~`]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
