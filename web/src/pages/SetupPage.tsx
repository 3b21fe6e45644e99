// First-admin setup (first visit). /setup?token=… (the one-time URL printed in
// the server log) fills in the token; plain /setup asks for it.

import { useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { Alert, App, Button, Card, Form, Input, Result, Spin } from 'antd';
import { KeyOutlined, LockOutlined, MailOutlined } from '@ant-design/icons';
import { ApiError, errorMessage, fieldErrors } from '../api/client';
import { authApi } from '../api/endpoints';
import AuthFrame from '../components/AuthFrame';
import { S } from '../strings';

export const PASSWORD_MIN = 10;

interface SetupForm {
  token: string;
  email: string;
  password: string;
  confirm: string;
}

type Status = 'checking' | 'needed' | 'done' | 'unknown';

/** The token out of what was pasted: the token itself, `token=…` or the whole setup URL. */
export function extractSetupToken(raw: string): string {
  const v = raw.trim();
  const m = /(?:^|[?&#\s])token=([^&#\s]*)/.exec(v);
  if (!m) return v;
  try {
    return decodeURIComponent(m[1]).trim();
  } catch {
    return m[1].trim();
  }
}

export default function SetupPage() {
  const [params] = useSearchParams();
  const urlToken = params.get('token')?.trim() ?? '';
  const [status, setStatus] = useState<Status>('checking');

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
  } else {
    // A new ?token= starts a fresh form (hidden token field again).
    body = (
      <SetupFormBody
        key={urlToken}
        urlToken={urlToken}
        checkFailed={status === 'unknown'}
        onDone={() => setStatus('done')}
      />
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

function SetupFormBody({
  urlToken,
  checkFailed,
  onDone,
}: {
  urlToken: string;
  checkFailed: boolean;
  onDone: () => void;
}) {
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [submitting, setSubmitting] = useState(false);
  // Hidden when the URL brought the token; shown again if the server rejects it.
  const [showToken, setShowToken] = useState(urlToken === '');
  const [form] = Form.useForm<SetupForm>();

  const onFinish = async (v: SetupForm) => {
    setSubmitting(true);
    try {
      await authApi.setup(extractSetupToken(v.token), v.email.trim(), v.password);
      void message.success(S.setup.created);
      navigate('/', { replace: true });
    } catch (e) {
      // Setup is a public call: a 401 here (wrong token) neither ends a
      // session nor redirects; the page shows the server's message.
      void message.error(errorMessage(e));
      if (e instanceof ApiError && e.code === 'SETUP_ALREADY_DONE') {
        onDone();
        return;
      }
      const byField = fieldErrors(e);
      if (e instanceof ApiError && e.code === 'INVALID_SETUP_TOKEN') {
        byField.token = [e.message];
        setShowToken(true);
      }
      form.setFields(
        (['token', 'email', 'password'] as const)
          .filter((name) => byField[name])
          .map((name) => ({ name, errors: byField[name] })),
      );
      setSubmitting(false);
    }
  };

  return (
    <>
      <p className="bm-auth-intro">{S.setup.intro}</p>
      {checkFailed && <Alert className="bm-auth-alert" type="warning" showIcon message={S.setup.checkFailed} />}
      <Form<SetupForm>
        form={form}
        name="setup"
        layout="vertical"
        requiredMark={false}
        initialValues={{ token: urlToken }}
        onFinish={onFinish}
        disabled={submitting}
      >
        <Form.Item
          label={S.setup.token}
          name="token"
          hidden={!showToken}
          extra={S.setup.tokenHelp}
          rules={[{ required: true, whitespace: true, message: S.setup.tokenRequired }]}
        >
          <Input
            prefix={<KeyOutlined />}
            autoComplete="off"
            autoCapitalize="off"
            autoCorrect="off"
            spellCheck={false}
            autoFocus={showToken}
          />
        </Form.Item>
        <Form.Item
          label={S.setup.email}
          name="email"
          rules={[
            { required: true, whitespace: true, message: S.login.emailRequired },
            { type: 'email', message: S.login.emailInvalid },
          ]}
        >
          <Input prefix={<MailOutlined />} autoComplete="username" inputMode="email" autoFocus={!showToken} />
        </Form.Item>
        <Form.Item
          label={S.setup.password}
          name="password"
          extra={S.setup.passwordMin(PASSWORD_MIN)}
          rules={[
            { required: true, message: S.login.passwordRequired },
            { min: PASSWORD_MIN, message: S.setup.passwordShort },
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
