// Login (web-ui.md §2.15). While no admin exists it forwards to /setup.

import { useState } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { App, Button, Card, Form, Input, Spin } from 'antd';
import { ApartmentOutlined, LockOutlined, MailOutlined } from '@ant-design/icons';
import { ApiError, errorMessage, fieldErrors } from '../api/client';
import { authApi } from '../api/endpoints';
import { isExpired, useSession } from '../api/session';
import AuthFrame from '../components/AuthFrame';
import { useSetupNeeded } from '../hooks';
import { S } from '../strings';

interface LoginForm {
  email: string;
  password: string;
  tenant?: string;
}

export default function LoginPage() {
  const session = useSession();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [submitting, setSubmitting] = useState(false);
  // Shown once the server says the password opens accounts in several tenants.
  const [askTenant, setAskTenant] = useState(false);
  const [form] = Form.useForm<LoginForm>();
  const signedIn = session !== null && !isExpired(session);
  // While no admin exists, the login form is useless: go to the setup form.
  const setupNeeded = useSetupNeeded(!signedIn);

  if (signedIn) return <Navigate to="/" replace />;
  if (setupNeeded) return <Navigate to="/setup" replace />;

  const onFinish = async (v: LoginForm) => {
    setSubmitting(true);
    try {
      await authApi.login(v.email.trim(), v.password, askTenant ? v.tenant?.trim() : undefined);
      navigate('/', { replace: true });
    } catch (e) {
      setSubmitting(false);
      if (e instanceof ApiError && e.code === 'TENANT_REQUIRED' && !askTenant) {
        setAskTenant(true);
        return;
      }
      void message.error(errorMessage(e));
      const byField = fieldErrors(e);
      form.setFields(
        (['email', 'password', 'tenant'] as const)
          .filter((name) => byField[name])
          .map((name) => ({ name, errors: byField[name] })),
      );
    }
  };

  return (
    <AuthFrame>
      <Card className="bm-auth-card" title={<h1 className="bm-auth-title">{S.login.title}</h1>}>
        {setupNeeded === undefined ? (
          <div className="bm-auth-checking" role="status">
            <Spin />
          </div>
        ) : (
        <Form<LoginForm>
          form={form}
          name="login"
          layout="vertical"
          requiredMark={false}
          onFinish={onFinish}
          autoComplete="on"
          disabled={submitting}
        >
          <Form.Item
            label={S.login.email}
            name="email"
            rules={[
              { required: true, whitespace: true, message: S.login.emailRequired },
              { type: 'email', message: S.login.emailInvalid },
            ]}
          >
            <Input prefix={<MailOutlined />} autoComplete="username" inputMode="email" autoFocus />
          </Form.Item>
          <Form.Item
            label={S.login.password}
            name="password"
            rules={[{ required: true, message: S.login.passwordRequired }]}
          >
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          {askTenant && (
            <Form.Item
              label={S.login.tenant}
              name="tenant"
              extra={S.login.tenantHelp}
              rules={[{ required: true, whitespace: true, message: S.login.tenantRequired }]}
            >
              <Input prefix={<ApartmentOutlined />} autoComplete="organization" autoFocus />
            </Form.Item>
          )}
          <Form.Item className="bm-auth-submit">
            <Button type="primary" htmlType="submit" block loading={submitting}>
              {S.login.signIn}
            </Button>
          </Form.Item>
        </Form>
        )}
      </Card>
    </AuthFrame>
  );
}
