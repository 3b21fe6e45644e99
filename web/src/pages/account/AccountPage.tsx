// Account (`/account`): the caller's sessions with revoke, password change
// (which ends every other session), sign out (docs/api.md, Authentication).

import { useCallback } from 'react';
import { useNavigate } from 'react-router';
import { App, Button, Card, Form, Input, Table, Tag } from 'antd';
import { KeyOutlined, LogoutOutlined, StopOutlined, UserOutlined } from '@ant-design/icons';
import { api, errorMessage } from '../../api/client';
import { authApi } from '../../api/endpoints';
import { useSession } from '../../api/session';
import { PageHeader } from '../../components/crud';
import { formatDateTime } from '../../format';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import '../workspace/workspace.css';

const A = S.account;
const PASSWORD_MIN = 10;

interface SessionInfo {
  id: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  ip?: string | null;
  user_agent?: string | null;
  current: boolean;
}

/** "Chrome 120 on Linux" is more than we need; the product token and the OS part do. */
function device(ua: string | null | undefined): string {
  if (!ua) return A.unknownDevice;
  const browser = /(Firefox|Edg|OPR|Chrome|Safari|curl|node)\/[\d.]+/.exec(ua)?.[0];
  const os = /\(([^;)]+)/.exec(ua)?.[1];
  return [browser, os].filter(Boolean).join(' · ') || ua.slice(0, 60);
}

interface PasswordForm {
  current_password: string;
  new_password: string;
  confirm: string;
}

export default function AccountPage() {
  const { message, modal } = App.useApp();
  const navigate = useNavigate();
  const session = useSession();
  const load = useCallback(() => api.get<SessionInfo[]>('/auth/sessions'), []);
  const sessions = usePolling(load, 30_000);

  const signOut = async () => {
    await authApi.logout();
    navigate('/login', { replace: true });
  };

  const revoke = (s: SessionInfo) =>
    modal.confirm({
      title: A.revokeConfirm,
      content: s.current ? A.revokeCurrent : device(s.user_agent),
      okText: A.revoke,
      okButtonProps: { danger: true },
      cancelText: S.crud.cancel,
      autoFocusButton: 'cancel',
      onOk: async () => {
        try {
          await api.delete(`/auth/sessions/${encodeURIComponent(s.id)}`, { endSessionOn401: !s.current });
          message.success(A.revoked);
        } catch (e) {
          message.error(errorMessage(e));
          return;
        }
        if (s.current) await signOut();
        else sessions.refresh();
      },
    });

  return (
    <div className="bm-ws-page">
      <PageHeader
        id="account"
        icon={<UserOutlined />}
        title={A.title}
        subtitle={session?.user.email}
        actions={
          <Button icon={<LogoutOutlined />} onClick={() => void signOut()}>
            {A.signOut}
          </Button>
        }
      />
      <Card className="bm-card" size="small" title={A.sessions}>
        <p className="bm-card-text">{A.sessionsHelp}</p>
        <Table<SessionInfo>
          size="small"
          rowKey="id"
          data-testid="sessions-table"
          loading={sessions.loading && !sessions.data}
          dataSource={sessions.data ?? []}
          pagination={false}
          locale={{ emptyText: sessions.error ? errorMessage(sessions.error) : A.noSessions }}
          scroll={{ x: 'max-content' }}
          columns={[
            {
              key: 'device',
              title: A.colDevice,
              render: (_, s) => (
                <>
                  {device(s.user_agent)} {s.current && <Tag color="blue">{A.current}</Tag>}
                </>
              ),
            },
            { key: 'ip', title: A.colIp, dataIndex: 'ip', render: (v?: string | null) => <span className="bm-mono">{v ?? ''}</span> },
            { key: 'created', title: A.colCreated, dataIndex: 'created_at', render: formatDateTime },
            { key: 'seen', title: A.colLastSeen, dataIndex: 'last_seen_at', render: formatDateTime },
            { key: 'expires', title: A.colExpires, dataIndex: 'expires_at', render: formatDateTime },
            {
              key: 'actions',
              title: '',
              render: (_, s) => (
                <Button size="small" danger icon={<StopOutlined />} onClick={() => revoke(s)}>
                  {A.revoke}
                </Button>
              ),
            },
          ]}
        />
      </Card>
      <PasswordCard onChanged={sessions.refresh} />
    </div>
  );
}

function PasswordCard({ onChanged }: { onChanged: () => void }) {
  const { message } = App.useApp();
  const [form] = Form.useForm<PasswordForm>();
  return (
    <Card className="bm-card" size="small" title={<span className="bm-card-title"><KeyOutlined /> {A.password}</span>}>
      <Form<PasswordForm>
        form={form}
        layout="vertical"
        style={{ maxWidth: 420 }}
        onFinish={async (v) => {
          try {
            const r = await api.post<{ sessions_ended: number }>('/auth/password', {
              current_password: v.current_password,
              new_password: v.new_password,
            });
            message.success(A.passwordChanged(r.sessions_ended));
            form.resetFields();
            onChanged();
          } catch (e) {
            form.setFields([{ name: 'current_password', errors: [errorMessage(e)] }]);
          }
        }}
      >
        <Form.Item name="current_password" label={A.currentPassword} rules={[{ required: true, message: A.passwordRequired }]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Form.Item
          name="new_password"
          label={A.newPassword}
          rules={[
            { required: true, message: A.passwordRequired },
            { min: PASSWORD_MIN, message: A.passwordMin(PASSWORD_MIN) },
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={A.confirmPassword}
          dependencies={['new_password']}
          rules={[
            { required: true, message: A.passwordRequired },
            ({ getFieldValue }) => ({
              validator: (_, v) => (!v || v === getFieldValue('new_password') ? Promise.resolve() : Promise.reject(new Error(A.mismatch))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Button htmlType="submit" type="primary">
          {A.changePassword}
        </Button>
      </Form>
    </Card>
  );
}
