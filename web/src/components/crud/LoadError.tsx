// What a list shows when loading it failed: the reason and a Retry, above the table (which
// keeps the last good rows when only a refresh failed).

import { Alert, Button } from 'antd';
import { errorMessage } from '../../api/client';
import type { Polled } from '../../hooks';
import { S } from '../../strings';

interface LoadErrorProps {
  error: unknown;
  retry: () => void;
  className?: string;
  /** The headline; "Could not load the list" by default. */
  title?: string;
}

export default function LoadError({ error, retry, className = 'bm-card-alert', title = S.crud.loadFailed }: LoadErrorProps) {
  return (
    <Alert
      className={className}
      type="error"
      showIcon
      message={title}
      description={errorMessage(error)}
      action={
        <Button size="small" onClick={retry}>
          {S.common.retry}
        </Button>
      }
    />
  );
}

/** For the tables of a polled page: a spinner only until the first answer, and "could not
 * load" as their empty text while there is nothing to show because of an error. */
export function firstLoad(polled: Polled<unknown>): { loading: boolean; failed: string | undefined } {
  const none = polled.data === undefined;
  return { loading: none && polled.loading, failed: none && polled.error ? S.crud.loadFailed : undefined };
}
