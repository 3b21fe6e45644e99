// One settings card: loads its document, edits it in a form, saves it with
// its own button (web-ui.md §2.13); the form is disabled while loading.

import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { App, Button, Card, Form, type FormInstance } from 'antd';
import { SaveOutlined } from '@ant-design/icons';
import { errorMessage, fieldErrors } from '../../api/client';
import LoadError from '../../components/crud/LoadError';
import { S } from '../../strings';

export default function DocCard<V extends object>({
  title,
  icon,
  load,
  save,
  saveLabel,
  saved,
  reloadKey,
  testId,
  children,
}: {
  title: string;
  icon: ReactNode;
  load: () => Promise<V>;
  /** Saves the form's values and answers the values to show afterwards. */
  save: (values: V) => Promise<V>;
  saveLabel: string;
  saved: string;
  /** Changing it loads the document again (the page's Refresh). */
  reloadKey: number;
  testId?: string;
  children: ReactNode | ((form: FormInstance<V>, loaded: V | undefined) => ReactNode);
}) {
  const [form] = Form.useForm<V>();
  const { message } = App.useApp();
  const [loaded, setLoaded] = useState<V | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const run = useCallback(() => {
    setError(undefined);
    setLoaded(undefined);
    load().then(
      (v) => {
        setLoaded(v);
        form.resetFields();
        form.setFieldsValue(v as Parameters<typeof form.setFieldsValue>[0]);
      },
      setError,
    );
  }, [load, form]);

  useEffect(run, [run, reloadKey]);

  const submit = async (values: V) => {
    setBusy(true);
    try {
      const v = await save(values);
      setLoaded(v);
      form.setFieldsValue(v as Parameters<typeof form.setFieldsValue>[0]);
      message.success(saved);
    } catch (e) {
      const fields = Object.entries(fieldErrors(e));
      if (fields.length) {
        form.setFields(fields.map(([name, errors]) => ({ name: name.split('.').slice(-1), errors })) as Parameters<typeof form.setFields>[0]);
      }
      message.error(`${S.ws.saveFailed}: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      className="bm-card bm-set-card"
      size="small"
      data-testid={testId}
      title={
        <span className="bm-card-title">
          {icon} {title}
        </span>
      }
    >
      {error ? (
        <LoadError className="bm-set-alert" title={S.ws.loadFailed} error={error} retry={run} />
      ) : null}
      {/* The name prefixes the fields' ids: cards share field names (enabled), and a label
          must point at its own card's field. */}
      <Form<V> form={form} name={testId} layout="vertical" disabled={loaded === undefined || busy} onFinish={(v) => void submit(v)}>
        {typeof children === 'function' ? children(form, loaded) : children}
        <Button htmlType="submit" icon={<SaveOutlined />} loading={busy}>
          {saveLabel}
        </Button>
      </Form>
    </Card>
  );
}
