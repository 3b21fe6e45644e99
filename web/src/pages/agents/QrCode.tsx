// A QR code as inline SVG. The encoder is a separate chunk, loaded when a code is first
// shown, so it stays off the first screen.

import { useEffect, useState } from 'react';
import { Spin } from 'antd';

export default function QrCode({ text, label }: { text: string; label: string }) {
  const [svg, setSvg] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    void import('qrcode-generator').then(({ default: qrcode }) => {
      const qr = qrcode(0, 'M');
      qr.addData(text);
      qr.make();
      if (alive) setSvg(qr.createSvgTag({ cellSize: 4, margin: 2, scalable: true }));
    });
    return () => {
      alive = false;
    };
  }, [text]);
  if (!svg) return <Spin />;
  // The SVG is generated locally from `text`; it holds no markup from outside.
  return <div className="bm-qr" role="img" aria-label={label} data-testid="pair-qr" dangerouslySetInnerHTML={{ __html: svg }} />;
}
