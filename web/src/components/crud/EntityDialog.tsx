// Create/edit dialog: an antd Form in a modal. Enter submits; while saving
// the OK button spins; a validation error of the server (details.fieldErrors)
// lands on the matching field, anything else above the fields.

import { useState, type ReactNode } from 'react';
import { Alert, App, Form, Modal, type FormInstance } from 'antd';
import type { NamePath } from 'antd/es/form/interface';
import { S } from '../../strings';
import { applyServerErrors } from './serverErrors';

export interface EntityDialogProps<V> {
  open: boolean;
  title: ReactNode;
  okText?: string;
  width?: number;
  initialValues?: Partial<V>;
  /** Saves; the dialog closes when it resolves. */
  onSubmit: (values: V) => Promise<unknown>;
  onClose: () => void;
  /** Toast after a successful save. */
  successMessage?: string;
  /** Server field → form field, where their names differ ('expires_at' → 'expires'). */
  fieldMap?: Record<string, NamePath>;
  /** OK is disabled while this holds; a function is asked again on every change of the form. */
  okDisabled?: boolean | ((values: Partial<V>) => boolean);
  testId?: string;
  children: ReactNode | ((form: FormInstance<V>) => ReactNode);
}

export default function EntityDialog<V extends object>({
  open,
  title,
  okText,
  width = 560,
  initialValues,
  onSubmit,
  onClose,
  successMessage,
  fieldMap = {},
  okDisabled,
  testId,
  children,
}: EntityDialogProps<V>) {
  const [form] = Form.useForm<V>();
  const values = Form.useWatch([], form) as Partial<V> | undefined;
  const disabled = typeof okDisabled === 'function' ? okDisabled(values ?? {}) : okDisabled;
  const [busy, setBusy] = useState(false);
  const [problems, setProblems] = useState<string[]>([]);
  const { message } = App.useApp();

  const submit = async (values: V) => {
    setBusy(true);
    setProblems([]);
    try {
      await onSubmit(values);
      if (successMessage) message.success(successMessage);
      onClose();
    } catch (e) {
      setProblems(applyServerErrors(form, e, fieldMap));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={title}
      width={width}
      okText={okText ?? S.crud.save}
      cancelText={S.crud.cancel}
      confirmLoading={busy}
      okButtonProps={{ disabled, htmlType: 'submit' }}
      onOk={() => form.submit()}
      onCancel={onClose}
      destroyOnHidden
      maskClosable={false}
      data-testid={testId}
    >
      {problems.length > 0 && (
        <Alert
          className="bm-dialog-alert"
          type="error"
          showIcon
          message={S.crud.fixFields}
          description={problems.length === 1 ? problems[0] : problems.map((p) => <div key={p}>{p}</div>)}
        />
      )}
      <Form<V>
        form={form}
        layout="vertical"
        requiredMark
        initialValues={initialValues}
        onFinish={(v) => void submit(v)}
        onValuesChange={() => problems.length && setProblems([])}
        disabled={busy}
      >
        {typeof children === 'function' ? children(form) : children}
        {/* Enter in a field submits the form. */}
        <button type="submit" hidden aria-hidden tabIndex={-1} />
      </Form>
    </Modal>
  );
}
