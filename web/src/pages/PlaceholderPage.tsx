// Honest placeholder for the routes whose screens arrive in later releases.

import { Link, useParams } from 'react-router';
import { Result } from 'antd';
import { ClockCircleOutlined } from '@ant-design/icons';
import { S, type PageKey } from '../strings';

export default function PlaceholderPage({ page }: { page: PageKey }) {
  const { id, site } = useParams();
  const info = S.pages[page];
  const suffix = id ? ` ${id}` : site ? ` — ${site}` : '';
  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <Result
          className="bm-placeholder"
          icon={<ClockCircleOutlined />}
          title={
            <h1 className="bm-page-title" data-testid="placeholder-title">
              {info.title}
              {suffix}
            </h1>
          }
          subTitle={
            <>
              <div className="bm-placeholder-arrives">{S.placeholder.arrives}</div>
              <div className="bm-placeholder-text">{info.text}</div>
            </>
          }
          extra={<Link to="/">{S.placeholder.backToOverview}</Link>}
        />
      </div>
    </div>
  );
}
