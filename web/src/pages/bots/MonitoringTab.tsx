// Monitoring (web-ui.md §2.3): life stage (changed through the lifecycle
// transition after a confirm), the stage's reported data, the life cycle,
// ban / unban, and the lifecycle log.

import { useCallback, useState } from 'react';
import { Alert, App, Button, Descriptions, Empty, Form, Input, Select, Steps, Tag, Timeline } from 'antd';
import { StopOutlined, UndoOutlined } from '@ant-design/icons';
import { BAN_MECHANISMS, botsApi, type BanMechanism, type Bot, type BotStatus } from '../../api/bots';
import { errorMessage } from '../../api/client';
import { EntityDialog, formatDate } from '../../components/crud';
import { formatDateTime, humanizeKey } from '../../format';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { STATUS_COLORS, storedStatus } from '../../models/bots';

const B = S.bot;
const STAGES: { status: BotStatus; title: string; text: string; data: 'leveling' | 'professions' | 'farm' | null }[] = [
  { status: 'prepare', title: B.stagePrepare, text: B.stagePrepareText, data: null },
  { status: 'leveling', title: B.stageLeveling, text: B.stageLevelingText, data: 'leveling' },
  { status: 'profession', title: B.stageProfession, text: B.stageProfessionText, data: 'professions' },
  { status: 'farming', title: B.stageFarm, text: B.stageFarmText, data: 'farm' },
];
const DATE_RE = /^(0[1-9]|[12]\d|3[01])\.(0[1-9]|1[0-2])\.\d{4}$/;

interface BanForm {
  ban_date: string;
  ban_reason: string;
  ban_mechanism: BanMechanism;
}

function StageData({ data }: { data: unknown }) {
  if (!data || typeof data !== 'object' || Object.keys(data).length === 0) {
    return <div className="bm-muted">{B.noTelemetry}</div>;
  }
  return (
    <Descriptions size="small" column={3} bordered>
      {Object.entries(data as Record<string, unknown>).map(([k, v]) => (
        <Descriptions.Item key={k} label={humanizeKey(k)}>
          {typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}
        </Descriptions.Item>
      ))}
    </Descriptions>
  );
}

export default function MonitoringTab({ bot, onChange }: { bot: Bot; onChange: () => void }) {
  const { message, modal } = App.useApp();
  const [banning, setBanning] = useState(false);
  const loadLog = useCallback(() => botsApi.log(bot.id), [bot.id]);
  const log = usePolling(loadLog, 15_000);
  const status = storedStatus(bot);
  const banned = status === 'banned';
  const stage = STAGES.find((s) => s.status === status);

  const transition = (to: BotStatus) => {
    const title = STAGES.find((s) => s.status === to)?.title ?? to;
    modal.confirm({
      title: B.transitionTitle(title),
      content: B.transitionText,
      cancelText: S.crud.cancel,
      onOk: async () => {
        try {
          await botsApi.transition(bot.id, to);
          message.success(B.transitioned(title));
          onChange();
          log.refresh();
        } catch (e) {
          message.error(errorMessage(e));
        }
      },
    });
  };

  const unban = () =>
    modal.confirm({
      title: B.unbanTitle,
      content: B.unbanText,
      okText: B.confirmUnban,
      cancelText: S.crud.cancel,
      onOk: async () => {
        try {
          await botsApi.unban(bot.id);
          message.success(B.unbanned);
          onChange();
          log.refresh();
        } catch (e) {
          message.error(errorMessage(e));
        }
      },
    });

  const transitions = bot.lifecycle?.stage_transitions ?? [];
  const reached = (s: BotStatus) => transitions.some((t) => t.to === s) || status === s;
  const currentIdx = banned ? STAGES.length : STAGES.findIndex((s) => s.status === status);
  const ban = bot.lifecycle?.ban_details;

  return (
    <>
      <section className="bm-bot-card">
        <h3 className="bm-bot-card-title">
          {B.lifeStage}
          <Select
            size="small"
            style={{ width: 180 }}
            aria-label={B.lifeStage}
            value={stage?.status ?? null}
            placeholder={S.botStatus[status]}
            disabled={banned}
            onChange={(v: BotStatus) => transition(v)}
            options={STAGES.map((s) => ({ value: s.status, label: s.title }))}
          />
          <Tag color={STATUS_COLORS[status]}>{S.botStatus[status]}</Tag>
          <span className="bm-grow" />
          {banned ? (
            <Button icon={<UndoOutlined />} onClick={unban}>
              {B.confirmUnban}
            </Button>
          ) : (
            <Button danger type="primary" icon={<StopOutlined />} onClick={() => setBanning(true)}>
              {B.confirmBan}
            </Button>
          )}
        </h3>
        {banned ? (
          <Alert
            type="error"
            showIcon
            message={B.isBanned}
            description={
              ban ? `${ban.ban_date} · ${B.mechanisms[ban.ban_mechanism] ?? ban.ban_mechanism} · ${ban.ban_reason}` : undefined
            }
          />
        ) : !stage || stage.data === null ? (
          <Alert type="info" showIcon message={B.preparing} />
        ) : (
          <StageData data={bot[stage.data]} />
        )}
      </section>
      <section className="bm-bot-card">
        <h3 className="bm-bot-card-title">{B.lifeCycle}</h3>
        <Steps
          size="small"
          current={currentIdx}
          status={banned ? 'error' : 'process'}
          items={[
            ...STAGES.map((s) => ({
              title: s.title,
              description: s.text,
              status: reached(s.status) && s.status !== status ? ('finish' as const) : undefined,
            })),
            { title: B.stageBanned, description: B.stageBannedText, status: banned ? ('error' as const) : ('wait' as const) },
          ]}
        />
      </section>
      <section className="bm-bot-card">
        <h3 className="bm-bot-card-title">{B.history}</h3>
        {log.data?.length ? (
          <Timeline
            items={log.data.slice(0, 20).map((e) => ({
              color: e.type === 'ban' ? 'red' : e.type === 'unban' ? 'green' : 'blue',
              children: (
                <>
                  <b>{e.message ?? e.type}</b> <span className="bm-muted">{formatDateTime(e.timestamp)}</span>
                </>
              ),
            }))}
          />
        ) : (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={B.noHistory} />
        )}
      </section>
      <EntityDialog<BanForm>
        open={banning}
        title={B.confirmBan}
        okText={B.ban}
        successMessage={B.banned}
        initialValues={{ ban_date: formatDate(Date.now()), ban_reason: '', ban_mechanism: 'battlenet_account_closure' }}
        onClose={() => setBanning(false)}
        testId="ban-dialog"
        onSubmit={async (v) => {
          await botsApi.ban(bot.id, { ...v, ban_reason: v.ban_reason.trim() });
          onChange();
          log.refresh();
        }}
      >
        <Form.Item name="ban_date" label={B.banDate} extra={B.banDateHelp} rules={[{ required: true, pattern: DATE_RE, message: B.banDateInvalid }]}>
          <Input />
        </Form.Item>
        <Form.Item name="ban_reason" label={B.banReason} rules={[{ required: true, whitespace: true, message: B.banReasonRequired }]}>
          <Input.TextArea rows={3} placeholder={B.banReasonPlaceholder} autoFocus />
        </Form.Item>
        <Form.Item name="ban_mechanism" label={B.enforcement}>
          <Select options={BAN_MECHANISMS.map((m) => ({ value: m, label: B.mechanisms[m] }))} />
        </Form.Item>
      </EntityDialog>
    </>
  );
}
