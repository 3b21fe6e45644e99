// "Playbooks" tab: list + New, name, Default, Save, Delete, the YAML editor and Validate
// (`POST /playbooks/validate`), whose errors are marked at their line in the editor. A save
// the server refuses (422 INVALID_PLAYBOOK) marks its errors the same way.

import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Checkbox, Input, Spin, Tag } from 'antd';
import { CheckCircleOutlined, DeleteOutlined, DownloadOutlined, SaveOutlined, UploadOutlined } from '@ant-design/icons';
import { ApiError, errorMessage } from '../../../api/client';
import { playbooksApi, type Playbook, type PlaybookReport } from '../../../api/playbooks';
import { S } from '../../../strings';
import CodeEditor, { type CodeEditorHandle } from './CodeEditor';
import NamedList from './NamedList';
import { download, useNamedRecords } from './records';

const T = S.vms.vmSettings;
/** The server takes 65,536 characters. */
const MAX_IMPORT_BYTES = 256 * 1024;

/** The report a refused save carries in its details. */
function refusedReport(e: unknown): PlaybookReport | null {
  if (!(e instanceof ApiError) || e.code !== 'INVALID_PLAYBOOK' || typeof e.details !== 'object' || !e.details) return null;
  const d = e.details as Partial<PlaybookReport>;
  return { valid: false, errors: d.errors ?? [], warnings: d.warnings ?? [] };
}

export default function PlaybooksTab() {
  const { message } = App.useApp();
  const records = useNamedRecords<Playbook>(playbooksApi, T.deletePlaybook);
  const [name, setName] = useState('');
  const [isDefault, setIsDefault] = useState(false);
  const [content, setContent] = useState<string>(T.newPlaybookContent);
  const [report, setReport] = useState<PlaybookReport | null>(null);
  const [busy, setBusy] = useState(false);
  const editor = useRef<CodeEditorHandle>(null);

  const open = useCallback(
    (p: Playbook | null) => {
      records.select(p?.id ?? null);
      records.setDirty(false);
      setName(p?.name ?? '');
      setIsDefault(p?.is_default ?? false);
      setContent(p?.content ?? T.newPlaybookContent);
      setReport(null);
    },
    [records],
  );
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current || records.items === undefined) return;
    opened.current = true;
    open(records.items.find((p) => p.is_default) ?? records.items[0] ?? null);
  }, [records.items, open]);

  const current = records.items?.find((p) => p.id === records.selected) ?? null;

  const fileInput = useRef<HTMLInputElement>(null);
  /** Loads a .yml into the editor (unsaved); a new playbook takes the file's name. */
  const importFile = async (file: File) => {
    if (file.size > MAX_IMPORT_BYTES) return void message.error(T.importTooBig);
    setContent(await file.text());
    setReport(null);
    records.setDirty(true);
    if (!name.trim()) setName(file.name.replace(/\.ya?ml$/i, ''));
  };

  const validate = async () => {
    setBusy(true);
    try {
      setReport(await playbooksApi.validate(content));
    } catch (e) {
      message.error(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const save = async () => {
    setBusy(true);
    try {
      const body = { name: name.trim(), is_default: isDefault, content };
      const saved = current ? await playbooksApi.update(current.id, body) : await playbooksApi.create(body);
      message.success(T.saved(saved.name));
      records.setDirty(false);
      setReport(null);
      await records.reload();
      records.select(saved.id);
    } catch (e) {
      const refused = refusedReport(e);
      if (refused) {
        setReport(refused);
        message.error(T.notSaved);
      } else message.error(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const marks = (report?.errors ?? []).flatMap((e) => (e.line ? [{ line: e.line, message: e.path ? `${e.path}: ${e.message}` : e.message }] : []));

  return (
    <div className="bm-vms-settings-grid is-two">
      <NamedList
        title={T.playbooks}
        items={records.items}
        selected={records.selected}
        onSelect={(p) => records.guard(() => open(p))}
        onNew={() => records.guard(() => open(null))}
        newLabel={T.newPlaybook}
        empty={T.noPlaybooks}
        testId="playbook-list"
      />
      <div className="bm-vms-editor">
        {records.error ? <Alert type="error" showIcon message={T.loadFailed(records.error)} /> : null}
        <div className="bm-vms-editorbar">
          <Input size="small" className="bm-vms-name" disabled={records.items === undefined} aria-label={T.playbookName} placeholder={T.playbookName} value={name} maxLength={200} onChange={(e) => (setName(e.target.value), records.setDirty(true))} />
          <Checkbox checked={isDefault} onChange={(e) => (setIsDefault(e.target.checked), records.setDirty(true))}>{T.makeDefault}</Checkbox>
          <Button size="small" type="primary" icon={<SaveOutlined />} loading={busy} disabled={!name.trim() || !content.trim()} onClick={() => void save()}>{T.save}</Button>
          <Button size="small" icon={<CheckCircleOutlined />} disabled={!content.trim()} onClick={() => void validate()}>{T.validate}</Button>
          <Button size="small" icon={<UploadOutlined />} onClick={() => fileInput.current?.click()}>{T.importYml}</Button>
          <input
            ref={fileInput}
            type="file"
            accept=".yml,.yaml,text/yaml,application/yaml"
            hidden
            aria-label={T.importYml}
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void importFile(file);
            }}
          />
          <Button size="small" icon={<DownloadOutlined />} disabled={!content.trim()} onClick={() => download(`${name.trim() || 'playbook'}.yml`, content, 'application/yaml')}>{T.exportYml}</Button>
          {current ? (
            <Button size="small" danger icon={<DeleteOutlined />} onClick={() => records.remove(current, () => open(null))}>{T.delete}</Button>
          ) : null}
          <span className="bm-grow" />
          {report ? (
            <Tag color={report.valid ? 'success' : 'error'} data-testid="playbook-verdict">
              {report.valid ? T.valid(report.warnings.length) : T.invalid(report.errors.length)}
            </Tag>
          ) : null}
        </div>
        {records.items === undefined ? <Spin /> : null}
        {records.items === undefined ? null : <CodeEditor ref={editor} value={content} onChange={(v) => (setContent(v), setReport(null), records.setDirty(true))} marks={marks} label={T.playbooks} />}
        {report && (report.errors.length || report.warnings.length) ? (
          <ul className="bm-vms-issues" data-testid="playbook-issues">
            {report.errors.map((e, i) => (
              <li key={`e${i}`} className="is-error">
                {e.line ? (
                  <button type="button" onClick={() => editor.current?.goTo(e.line ?? 1)}>{T.atLine(e.line, e.column ?? 1)}</button>
                ) : null}
                {e.path ? <code>{e.path}</code> : null} {e.message}
              </li>
            ))}
            {report.warnings.map((w, i) => <li key={`w${i}`} className="is-warning">{w.message}</li>)}
          </ul>
        ) : null}
      </div>
    </div>
  );
}
