// A vault-backed secret (docs/api.md, Settings): never shown back. The form
// value is what to send: SECRET_MASK keeps the stored secret, '' clears it,
// anything else replaces it.

import { Button, Input, Space, Tag } from 'antd';
import { S } from '../../strings';
import { SECRET_MASK } from '../../api/settings';

const T = S.settingsPage;

export default function SecretField({
  value,
  onChange,
  isSet,
  id,
}: {
  value?: string;
  onChange?: (v: string) => void;
  /** Whether the server holds a secret now. */
  isSet: boolean;
  id?: string;
}) {
  const keeping = value === SECRET_MASK;
  const clearing = isSet && value === '';
  return (
    <div className="bm-secret">
      <Tag color={isSet ? 'green' : 'default'} data-testid="secret-state">
        {isSet ? T.secretSet : T.secretNotSet}
      </Tag>
      <Space.Compact block>
        <Input.Password
          id={id}
          autoComplete="new-password"
          value={keeping ? '' : value}
          placeholder={keeping ? T.secretKeep : clearing ? T.secretCleared : T.secretNew}
          onChange={(e) => onChange?.(e.target.value === '' && isSet ? SECRET_MASK : e.target.value)}
          visibilityToggle={!keeping}
        />
        {isSet && (
          <Button onClick={() => onChange?.(clearing ? SECRET_MASK : '')} aria-pressed={clearing}>
            {T.secretClear}
          </Button>
        )}
      </Space.Compact>
    </div>
  );
}
