import { Spin } from 'antd';
import { S } from '../strings';

/** The large centred spinner shown while a lazily loaded page arrives. */
export default function PageSpinner() {
  return (
    <div className="bm-page-spinner" role="status" aria-live="polite">
      <Spin size="large" />
      <span className="bm-visually-hidden">{S.loading}</span>
    </div>
  );
}
