// A plain textarea with a line-number gutter; lines with an issue get a red number (its
// messages as the tooltip) and a stripe across the text. No editor library: it is a YAML box.

import { forwardRef, useImperativeHandle, useRef, useState } from 'react';

export interface LineMark {
  line: number;
  message: string;
}

export interface CodeEditorHandle {
  /** Puts the caret at the start of `line` (1-based) and scrolls to it. */
  goTo: (line: number) => void;
}

const LINE_PX = 18;

export default forwardRef<CodeEditorHandle, {
  value: string;
  onChange: (v: string) => void;
  marks: LineMark[];
  label: string;
}>(function CodeEditor({ value, onChange, marks, label }, ref) {
  const area = useRef<HTMLTextAreaElement>(null);
  const [scroll, setScroll] = useState(0);
  const lines = value.split('\n').length;
  const byLine = new Map<number, string[]>();
  for (const m of marks) byLine.set(m.line, [...(byLine.get(m.line) ?? []), m.message]);

  useImperativeHandle(ref, () => ({
    goTo(line) {
      const el = area.current;
      if (!el) return;
      const offset = value.split('\n').slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
      el.focus();
      el.setSelectionRange(offset, offset);
      el.scrollTop = Math.max(0, (line - 3) * LINE_PX);
    },
  }));

  return (
    <div className="bm-code" style={{ ['--bm-code-line' as string]: `${LINE_PX}px` }}>
      <div className="bm-code-gutter" aria-hidden="true">
        <div style={{ transform: `translateY(${-scroll}px)` }}>
          {Array.from({ length: lines }, (_, i) => {
            const msgs = byLine.get(i + 1);
            return (
              <div key={i} className={msgs ? 'is-error' : undefined} title={msgs?.join('\n')} data-line={i + 1} data-error={msgs ? 'true' : undefined}>
                {i + 1}
              </div>
            );
          })}
        </div>
      </div>
      <div className="bm-code-body">
        <div className="bm-code-stripes" aria-hidden="true" style={{ transform: `translateY(${-scroll}px)` }}>
          {[...byLine.keys()].map((line) => (
            <div key={line} className="bm-code-stripe" style={{ top: (line - 1) * LINE_PX }} />
          ))}
        </div>
        <textarea
          ref={area}
          aria-label={label}
          spellCheck={false}
          wrap="off"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          onScroll={(e) => setScroll(e.currentTarget.scrollTop)}
          onKeyDown={(e) => {
            // Tab indents by two spaces, as YAML wants, instead of leaving the box.
            if (e.key !== 'Tab' || e.shiftKey) return;
            e.preventDefault();
            const el = e.currentTarget;
            const { selectionStart: a, selectionEnd: b } = el;
            onChange(value.slice(0, a) + '  ' + value.slice(b));
            requestAnimationFrame(() => el.setSelectionRange(a + 2, a + 2));
          }}
        />
      </div>
    </div>
  );
});
