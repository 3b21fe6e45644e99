// Upload a release: the claims (module, platform, channel, version, status), the file, and a
// progress bar of the bytes sent. The dialog stays open when done, showing the result, so a
// long upload ends visibly; server field errors land next to their fields.

import { useEffect, useRef, useState } from 'react';
import { Alert, Button, Form, Input, Modal, Progress, Select } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import { RELEASE_STATUSES, sha256Hex, uploadRelease, type Release, type UploadFields } from '../../api/artifacts';
import { applyServerErrors } from '../../components/crud/serverErrors';
import { formatBytes } from './format';
import { S } from '../../strings';

const T = S.artifacts;

type Values = UploadFields & { file?: File };

/** A file picker as a form control (value = the File). */
function FilePick({ value, onChange }: { value?: File; onChange?: (f: File | undefined) => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="bm-admin-upload-file">
      <input ref={input} type="file" style={{ display: 'none' }} aria-label={T.file} onChange={(e) => onChange?.(e.target.files?.[0])} data-testid="upload-file" />
      <Button icon={<UploadOutlined />} onClick={() => input.current?.click()}>
        {T.pickFile}
      </Button>
      {value ? (
        <span className="bm-mono">
          {value.name} ({formatBytes(value.size)})
        </span>
      ) : null}
    </div>
  );
}

type Phase = { at: 'form' } | { at: 'hashing' } | { at: 'sending'; fraction: number } | { at: 'done'; release: Release };

export default function UploadDialog({ open, onClose, onUploaded }: { open: boolean; onClose: () => void; onUploaded: () => void }) {
  const [form] = Form.useForm<Values>();
  const [phase, setPhase] = useState<Phase>({ at: 'form' });
  const [problems, setProblems] = useState<string[]>([]);
  const [noHash, setNoHash] = useState(false);
  const abort = useRef<(() => void) | null>(null);

  useEffect(() => {
    if (open) {
      form.resetFields();
      setPhase({ at: 'form' });
      setProblems([]);
      setNoHash(false);
    }
  }, [open, form]);

  const close = () => {
    abort.current?.();
    abort.current = null;
    onClose();
  };

  const submit = async ({ file, ...fields }: Values) => {
    if (!file) return;
    setProblems([]);
    try {
      setPhase({ at: 'hashing' });
      const sha = await sha256Hex(file);
      setNoHash(sha === undefined);
      setPhase({ at: 'sending', fraction: 0 });
      const job = uploadRelease(
        { ...fields, module: fields.module.trim(), platform: fields.platform.trim(), version: fields.version.trim(), channel: fields.channel.trim() },
        file,
        sha,
        (fraction) => setPhase({ at: 'sending', fraction }),
      );
      abort.current = job.abort;
      const release = await job.done;
      abort.current = null;
      setPhase({ at: 'done', release });
      onUploaded();
    } catch (e) {
      abort.current = null;
      if (e instanceof DOMException && e.name === 'AbortError') return;
      setPhase({ at: 'form' });
      setProblems(applyServerErrors(form, e));
    }
  };

  const busy = phase.at === 'hashing' || phase.at === 'sending';
  const done = phase.at === 'done';
  const percent = phase.at === 'sending' ? Math.floor(phase.fraction * 100) : done ? 100 : 0;

  return (
    <Modal
      open={open}
      title={T.uploadTitle}
      width={560}
      onCancel={close}
      maskClosable={false}
      destroyOnHidden
      data-testid="upload-dialog"
      footer={
        done ? (
          <Button type="primary" onClick={close}>
            {S.secrets.close}
          </Button>
        ) : (
          <>
            <Button onClick={close}>{busy ? T.cancel : S.crud.cancel}</Button>
            <Button type="primary" loading={busy} onClick={() => form.submit()}>
              {T.upload}
            </Button>
          </>
        )
      }
    >
      {problems.length ? (
        <Alert className="bm-dialog-alert" type="error" showIcon message={S.crud.fixFields} description={problems.join('; ')} />
      ) : null}
      <Form<Values>
        form={form}
        layout="vertical"
        initialValues={{ platform: 'windows', channel: 'stable', status: 'active' }}
        onFinish={(v) => void submit(v)}
        onValuesChange={() => problems.length && setProblems([])}
        disabled={busy || done}
      >
        <Form.Item name="file" label={T.file} rules={[{ required: true, message: T.fileRequired }]}>
          <FilePick />
        </Form.Item>
        <Form.Item name="module" label={T.module} rules={[{ required: true, whitespace: true, message: T.moduleRequired }, { max: 200 }]}>
          <Input placeholder="runner" maxLength={200} />
        </Form.Item>
        <Form.Item name="version" label={T.version} rules={[{ required: true, whitespace: true, message: T.versionRequired }, { max: 100 }]}>
          <Input placeholder="1.0.0" maxLength={100} />
        </Form.Item>
        <Form.Item name="platform" label={T.platform} rules={[{ required: true, whitespace: true, message: T.platformRequired }, { max: 100 }]}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="channel" label={T.channel} rules={[{ required: true, whitespace: true }, { max: 100 }]}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="status" label={T.status} extra={T.statusHelp}>
          <Select options={RELEASE_STATUSES.map((s) => ({ value: s, label: T.statuses[s] }))} />
        </Form.Item>
        <button type="submit" hidden aria-hidden tabIndex={-1} />
      </Form>
      {phase.at !== 'form' ? (
        <div data-testid="upload-progress" data-percent={percent}>
          <Progress aria-label={T.progress} percent={percent} status={done ? 'success' : 'active'} />
          <div className="bm-muted">
            {phase.at === 'hashing'
              ? T.hashing
              : phase.at === 'sending'
                ? T.uploading(percent)
                : T.uploaded(`${phase.release.module} ${phase.release.version}`)}
          </div>
          {noHash ? <div className="bm-muted">{T.noHash}</div> : null}
        </div>
      ) : null}
    </Modal>
  );
}
