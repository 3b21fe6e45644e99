// The VM queue pane: template, "+ VM", "Start all", "Clear", and a row per queued VM with its state.

import { App, Button, Select, Table, Tag, Tooltip } from 'antd';
import { CloseOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { errorMessage } from '../../api/client';
import { IconAction } from '../../components/crud/cells';
import { S } from '../../strings';
import type { QueueItem, ItemState, useQueue } from './useQueue';
import type { Vm } from './VmTable';

const T = S.vms;
const STATE_COLOR: Record<ItemState, string> = {
  queued: 'default',
  cloning: 'processing',
  starting: 'processing',
  done: 'success',
  running: 'green',
  error: 'error',
};

export default function VmQueue({ queue, templates, template, onTemplate }: {
  queue: ReturnType<typeof useQueue>;
  templates: Vm[];
  template: number | undefined;
  onTemplate: (vmid: number) => void;
}) {
  const { message } = App.useApp();
  const add = () => queue.add().catch((e: unknown) => message.error(errorMessage(e)));
  const startAll = async () => {
    const [ok, all] = await queue.startAll();
    message.info(T.startedAll(ok, all));
  };
  const columns: ColumnsType<QueueItem> = [
    { key: 'name', title: T.colQueueVm, dataIndex: 'name' },
    { key: 'vmid', title: T.colQueueId, dataIndex: 'vmid', width: 80 },
    {
      key: 'state',
      title: T.colState,
      width: 130,
      render: (_, i) => {
        const tag = <Tag color={STATE_COLOR[i.state]} data-testid={`queue-state-${i.name}`}>{T.itemState[i.state]}</Tag>;
        return i.error ? <Tooltip title={i.error}>{tag}</Tooltip> : tag;
      },
    },
    {
      key: 'remove',
      width: 40,
      render: (_, i) =>
        i.state === 'queued' || i.state === 'error' || i.state === 'done' ? (
          <IconAction title={T.remove} icon={<CloseOutlined />} onClick={() => queue.remove(i.key)} />
        ) : null,
    },
  ];
  return (
    <section className="bm-vm-pane" aria-label={T.queue}>
      <div className="bm-vm-panebar">
        <span className="bm-vm-panetitle">{T.queue}</span>
        <span className="bm-grow" />
        <Button size="small" type="primary" onClick={() => void startAll()} disabled={!queue.counts.done || queue.processing}>{T.startAll}</Button>
        <Button size="small" onClick={() => void add()}>{T.addVm}</Button>
        <Button size="small" onClick={queue.clear} disabled={!queue.items.length}>{T.clear}</Button>
      </div>
      <div className="bm-vm-panebar">
        <span>{T.templateLabel}</span>
        <Select<number>
          size="small"
          className="bm-vm-template"
          aria-label={T.templateLabel}
          placeholder={templates.length ? T.templatePlaceholder : T.noTemplate}
          value={template}
          onChange={onTemplate}
          options={templates.map((t) => ({ value: t.vmid, label: `${t.vmid} · ${t.name ?? ''}` }))}
        />
      </div>
      <Table<QueueItem>
        size="small"
        rowKey="key"
        columns={columns}
        dataSource={queue.items}
        pagination={false}
        locale={{ emptyText: T.queueEmpty }}
        data-testid="vm-queue"
      />
    </section>
  );
}
