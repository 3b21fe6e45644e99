// First-admin setup: /setup?token=… (one-time URL printed in the server log).

import { useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { Alert, App, Button, Card, Form, Input, Result, Spin } from 'antd';
import { LockOutlined, MailOutlined } from '@ant-design/icons';
import { errorMessage, fieldErrors } from '../api/client';
import { authApi } from '../api/endpoints';
import AuthFrame from '../components/AuthFrame';
import { S } from '../strings';

export const PASSWORD_MIN = 10;

interface SetupForm {
  email: string;
  password: string;
  confirm: string;
}

type Status = 'checking' | 'needed' | 'done' | 'unknown';

export default function SetupPage() {
  const [params] = useSearchParams();
  const token = params.get('token')?.trim() ?? '';
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [status, setStatus] = useState<Status>('checking');
  const [submitting, setSubmitting] = useState(false);
  const [form] = Form.useForm<SetupForm>();

  useEffect(() => {
    let cancelled = false;
    authApi
      .setupStatus()
      .then((s) => {
        if (!cancelled) setStatus(s.needed ? 'needed' : 'done');
      })
      .catch(() => {
        if (!cancelled) setStatus('unknown');
      });
    return () => {
      cancelled = true;
    };
  }, []);

  const onFinish = async (v: SetupForm) => {
    setSubmitting(true);
    try {
      await authApi.setup(token, v.email.trim(), v.password);
      void message.success(S.setup.created);
      navigate('/', { replace: true });
    } catch (e) {
      void message.error(errorMessage(e));
      const byField = fieldErrors(e);
      form.setFields(
        (['email', 'password'] as const)
          .filter((name) => byField[name])
          .map((name) => ({ name, errors: byField[name] })),
      );
      setSubmitting(false);
    }
  };

  let body;
  if (status === 'checking') {
    body = (
      <div className="bm-auth-checking" role="status">
        <Spin />
      </div>
    );
  } else if (status === 'done') {
    body = (
      <Result
        status="success"
        title={S.setup.doneTitle}
        subTitle={S.setup.doneText}
        extra={
          <Link to="/login" className="bm-strong-link">
            {S.setup.goToLogin}
          </Link>
        }
      />
    );
  } else if (!token) {
    body = <Result status="info" title={S.setup.noTokenTitle} subTitle={S.setup.noTokenText} />;
  } else {
    body = (
      <>
        <p className="bm-auth-intro">{S.setup.intro}</p>
        {status === 'unknown' && (
          <Alert className="bm-auth-alert" type="warning" showIcon message={S.setup.checkFailed} />
        )}
        <Form<SetupForm>
          form={form}
          name="setup"
          layout="vertical"
          requiredMark={false}
          onFinish={onFinish}
          disabled={submitting}
        >
          <Form.Item
            label={S.setup.email}
            name="email"
            rules={[
              { required: true, whitespace: true, message: S.login.emailRequired },
              { type: 'email', message: S.login.emailInvalid },
            ]}
          >
            <Input prefix={<MailOutlined />} autoComplete="username" inputMode="email" autoFocus />
          </Form.Item>
          <Form.Item
            label={S.setup.password}
            name="password"
            extra={S.setup.passwordMin(PASSWORD_MIN)}
            rules={[
              { required: true, message: S.login.passwordRequired },
              { min: PASSWORD_MIN, message: S.setup.passwordMin(PASSWORD_MIN) },
            ]}
          >
            <Input.Password prefix={<LockOutlined />} autoComplete="new-password" />
          </Form.Item>
          <Form.Item
            label={S.setup.confirm}
            name="confirm"
            dependencies={['password']}
            rules={[
              { required: true, message: S.setup.confirmRequired },
              ({ getFieldValue }) => ({
                validator(_, value) {
                  if (!value || getFieldValue('password') === value) return Promise.resolve();
                  return Promise.reject(new Error(S.setup.mismatch));
                },
              }),
            ]}
          >
            <Input.Password prefix={<LockOutlined />} autoComplete="new-password" />
          </Form.Item>
          <Form.Item className="bm-auth-submit">
            <Button type="primary" htmlType="submit" block loading={submitting}>
              {S.setup.submit}
            </Button>
          </Form.Item>
        </Form>
      </>
    );
  }

  return (
    <AuthFrame>
      <Card className="bm-auth-card bm-auth-card-wide" title={<h1 className="bm-auth-title">{S.setup.title}</h1>}>
        {body}
      </Card>
    </AuthFrame>
  );
}
