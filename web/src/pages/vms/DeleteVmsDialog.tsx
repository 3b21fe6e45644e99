// "Delete Existing VMs" (web-ui.md §2.7): pick VMs of the computer to queue for deletion.
// Each VM is shown with its linked bot and why it is ALLOWED or LOCKED (deleteCandidates.ts);
// the rules and the view filter are saved with the VM settings as they change.

import { useMemo, useState } from 'react';
import { Alert, App, Button, Checkbox, Modal, Table, Tag } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { errorMessage } from '../../api/client';
import { S } from '../../strings';
import { classify, isAllowed, useDeleteSettings, useLinks, type Candidate, type DeleteSettings, type RuleKey, type ViewKey } from './deleteCandidates';
import type { Vm } from '../../api/vmops';

const T = S.vms.del;
const RULES: RuleKey[] = ['banned', 'prepare', 'orphan'];
const VIEWS: ViewKey[] = ['allowed', 'locked', 'running', 'stopped'];

function Chip({ label, n }: { label: string; n: number }) {
  return <span className="bm-vm-chip">{label} {n}</span>;
}

function account(c: Candidate) {
  const b = c.bot;
  if (!b) return '';
  const who = b.name || b.character?.name || b.id;
  return b.account?.email ? `${who} · ${b.account.email}` : who;
}

export default function DeleteVmsDialog({ vms, queued, onAdd, onClose }: {
  vms: readonly Vm[] | null;
  /** VMIDs already queued for deletion. */
  queued: ReadonlySet<number>;
  onAdd: (vms: Vm[]) => void;
  onClose: () => void;
}) {
  const { message } = App.useApp();
  const { links, error } = useLinks();
  const { settings, save } = useDeleteSettings();
  const [selected, setSelected] = useState<number[]>([]);

  const candidates = useMemo(
    () => (links ? (vms ?? []).filter((v) => !v.template).map((v) => classify(v, links)) : []),
    [vms, links],
  );
  const allowed = (c: Candidate) => isAllowed(c, settings.rules);
  const queueable = (c: Candidate) => allowed(c) && !queued.has(c.vm.vmid);
  const { view } = settings;
  const visible = candidates.filter(
    (c) => (allowed(c) ? view.allowed : view.locked) && (c.vm.status === 'running' ? view.running : view.stopped),
  );
  const ready = candidates.filter((c) => selected.includes(c.vm.vmid) && queueable(c));

  const change = (next: DeleteSettings) => save(next).catch((e: unknown) => message.error(T.settingsFailed(errorMessage(e))));
  const toggles = <K extends string>(keys: K[], values: Record<K, boolean>, labels: Record<K, string>, set: (v: Record<K, boolean>) => void) =>
    keys.map((k) => (
      <Checkbox key={k} checked={values[k]} onChange={(e) => set({ ...values, [k]: e.target.checked })}>
        {labels[k]}
      </Checkbox>
    ));
  const count = (o: Record<string, boolean>) => Object.values(o).filter(Boolean).length;

  const columns: ColumnsType<Candidate> = [
    { key: 'vm', title: T.colVm, width: 200, render: (_, c) => S.vms.deleteRow(c.vm.name ?? '', c.vm.vmid) },
    { key: 'account', title: T.colAccount, width: 220, render: (_, c) => account(c) },
    { key: 'reason', title: T.colReason, render: (_, c) => c.reason },
    {
      key: 'tags',
      title: T.colTags,
      width: 230,
      render: (_, c) => (
        <span data-testid={`del-tags-${c.vm.vmid}`}>
          {c.vm.status === 'running' ? <Tag color="green">{T.tag.running}</Tag> : <Tag>{T.tag.stopped}</Tag>}
          {allowed(c) ? <Tag color="success">{T.tag.allowed}</Tag> : <Tag color="error">{T.tag.locked}</Tag>}
          {queued.has(c.vm.vmid) ? <Tag color="processing">{T.tag.queued}</Tag> : null}
        </span>
      ),
    },
  ];

  return (
    <Modal
      open
      width={980}
      title={T.title}
      okText={T.ok}
      okButtonProps={{ disabled: !ready.length }}
      onOk={() => {
        onAdd(ready.map((c) => c.vm));
        message.success(T.added(ready.length));
        onClose();
      }}
      onCancel={onClose}
      data-testid="delete-vms-dialog"
    >
      <div className="bm-vm-del">
        <div className="bm-vm-delbar">
          <Chip label={T.chips.selected} n={selected.length} />
          <Chip label={T.chips.allowed} n={candidates.filter(allowed).length} />
          <Chip label={T.chips.visible} n={visible.length} />
          <Chip label={T.chips.ready} n={ready.length} />
        </div>
        <fieldset className="bm-vm-delgroup">
          <legend>{T.rules} ({count(settings.rules)}/{RULES.length})</legend>
          {toggles(RULES, settings.rules, T.rule, (rules) => void change({ ...settings, rules }))}
        </fieldset>
        <fieldset className="bm-vm-delgroup">
          <legend>{T.view} ({count(view)}/{VIEWS.length})</legend>
          {toggles(VIEWS, view, T.show, (v) => void change({ ...settings, view: v }))}
        </fieldset>
        <div className="bm-vm-delbar">
          <Button size="small" onClick={() => setSelected(visible.filter(queueable).map((c) => c.vm.vmid))}>{T.selectAllowed}</Button>
          <Button size="small" onClick={() => setSelected([])} disabled={!selected.length}>{T.clearSelection}</Button>
        </div>
        {error ? <Alert type="error" showIcon message={T.loadFailed(error)} /> : null}
        <div className="bm-vm-panetitle">{T.candidates} — {T.candidatesHint}</div>
        <Table<Candidate>
          size="small"
          rowKey={(c) => c.vm.vmid}
          columns={columns}
          dataSource={visible}
          loading={!links && !error}
          pagination={false}
          scroll={{ y: 360 }}
          locale={{ emptyText: T.noCandidates }}
          rowSelection={{
            selectedRowKeys: selected,
            onChange: (keys) => setSelected(keys as number[]),
            getCheckboxProps: (c) => ({ disabled: !queueable(c), 'aria-label': S.vms.deleteRow(c.vm.name ?? '', c.vm.vmid) }),
            preserveSelectedRowKeys: true,
          }}
          data-testid="delete-candidates"
        />
      </div>
    </Modal>
  );
}
