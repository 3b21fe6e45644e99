// "Unattend Profile" tab: the profile list (★ default), name + Create/Update/Delete, the
// option cards, and a read-only preview of the answer file the server renders from the
// unsaved editor (`POST /unattend-profiles/preview`), with "Export Final XML".

import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Checkbox, Form, Input, Spin } from 'antd';
import { DeleteOutlined, DownloadOutlined, SaveOutlined, UndoOutlined } from '@ant-design/icons';
import { fieldErrors } from '../../../api/client';
import { defaultConfig, unattendApi, type AnswerPreview, type UnattendConfig, type UnattendProfile } from '../../../api/provisioning';
import { applyServerErrors } from '../../../components/crud';
import { S } from '../../../strings';
import NamedList from './NamedList';
import UnattendForm from './UnattendForm';
import { download, useNamedRecords } from './records';

const T = S.vms.vmSettings;
const PREVIEW_DEBOUNCE_MS = 350;

/** Empty inputs are left out, so the server's defaults apply instead of "" failing a check. */
const clean = (config: UnattendConfig): UnattendConfig =>
  JSON.parse(JSON.stringify(config, (_k, v: unknown) => (v === '' || v === null ? undefined : v))) as UnattendConfig;

/** Server field errors are keyed `config.<path>`; the form's names are the paths. */
const configFields = (e: unknown) =>
  Object.fromEntries(Object.keys(fieldErrors(e)).map((k) => [k, k.replace(/^config\./, '').split('.')]));

export default function UnattendTab() {
  const { message } = App.useApp();
  const records = useNamedRecords<UnattendProfile>(unattendApi, T.deleteProfile);
  const [form] = Form.useForm<UnattendConfig>();
  const [name, setName] = useState('');
  const [isDefault, setIsDefault] = useState(false);
  const [preview, setPreview] = useState<AnswerPreview | null>(null);
  const [previewError, setPreviewError] = useState<string[] | null>(null);
  const [saving, setSaving] = useState(false);
  const timer = useRef(0);
  const inFlight = useRef<AbortController | null>(null);

  const config = useCallback(() => clean(form.getFieldsValue(true) as UnattendConfig), [form]);

  const renderPreview = useCallback(async () => {
    inFlight.current?.abort();
    const ctl = new AbortController();
    inFlight.current = ctl;
    // A required field left empty is marked here, without asking the server.
    const complete = await form.validateFields().then(() => true, () => false);
    if (!complete || ctl.signal.aborted) return;
    await unattendApi.preview(config(), ctl.signal).then(
      (p) => {
        if (ctl.signal.aborted) return;
        setPreview(p);
        setPreviewError(null);
        form.setFields(form.getFieldsError().map((f) => ({ name: f.name, errors: [] })) as unknown as Parameters<typeof form.setFields>[0]);
      },
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        setPreviewError(applyServerErrors(form, e, configFields(e)));
      },
    );
  }, [config, form]);

  const schedulePreview = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void renderPreview(), PREVIEW_DEBOUNCE_MS);
  }, [renderPreview]);
  useEffect(() => () => (window.clearTimeout(timer.current), inFlight.current?.abort()), []);

  const open = useCallback(
    (p: UnattendProfile | null) => {
      records.select(p?.id ?? null);
      records.setDirty(false);
      setName(p?.name ?? '');
      setIsDefault(p?.is_default ?? false);
      form.resetFields();
      form.setFieldsValue(p?.config ?? defaultConfig());
      void renderPreview();
    },
    [form, records, renderPreview],
  );

  // The default profile (else the first, else a new one) once the list arrives.
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current || records.items === undefined) return;
    opened.current = true;
    open(records.items.find((p) => p.is_default) ?? records.items[0] ?? null);
  }, [records.items, open]);

  /** The options back to the defaults, unsaved; name and default flag stay. */
  const resetDefaults = () => {
    form.resetFields();
    form.setFieldsValue(defaultConfig());
    records.setDirty(true);
    void renderPreview();
  };

  const current = records.items?.find((p) => p.id === records.selected) ?? null;

  const save = async () => {
    setSaving(true);
    try {
      const body = { name: name.trim(), is_default: isDefault, config: config() };
      const saved = current ? await unattendApi.update(current.id, body) : await unattendApi.create(body);
      message.success(T.saved(saved.name));
      records.setDirty(false);
      await records.reload();
      records.select(saved.id);
    } catch (e) {
      const rest = applyServerErrors(form, e, configFields(e));
      if (rest.length) message.error(rest.join('; '));
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="bm-vms-settings-grid">
      <NamedList
        title={T.profiles}
        items={records.items}
        selected={records.selected}
        onSelect={(p) => records.guard(() => open(p))}
        onNew={() => records.guard(() => open(null))}
        newLabel={T.newProfile}
        empty={T.noProfiles}
        testId="profile-list"
      />
      <div className="bm-vms-editor">
        {records.error ? <Alert type="error" showIcon message={T.loadFailed(records.error)} /> : null}
        <div className="bm-vms-editorbar">
          <Input size="small" className="bm-vms-name" disabled={records.items === undefined} aria-label={T.profileName} placeholder={T.profileName} value={name} maxLength={200} onChange={(e) => (setName(e.target.value), records.setDirty(true))} onPressEnter={() => void save()} />
          <Checkbox checked={isDefault} onChange={(e) => (setIsDefault(e.target.checked), records.setDirty(true))}>{T.makeDefault}</Checkbox>
          <Button size="small" type="primary" icon={<SaveOutlined />} loading={saving} disabled={!name.trim()} onClick={() => void save()}>
            {current ? T.update : T.create}
          </Button>
          {current ? (
            <Button size="small" danger icon={<DeleteOutlined />} onClick={() => records.remove(current, () => open(null))}>{T.delete}</Button>
          ) : null}
          <Button size="small" icon={<UndoOutlined />} disabled={records.items === undefined} onClick={resetDefaults}>{T.resetDefault}</Button>
        </div>
        {/* Until the list is in, the editor is not shown: what it opens would overwrite typing. */}
        <div className="bm-vms-scroll">
          {records.items === undefined ? <Spin /> : null}
          <div hidden={records.items === undefined}>
            <UnattendForm form={form} onChange={() => (records.setDirty(true), schedulePreview())} />
          </div>
        </div>
      </div>
      <div className="bm-vms-preview">
        <div className="bm-vms-listbar">
          <span className="bm-vm-panetitle">{T.preview}</span>
          <span className="bm-grow" />
          <Button size="small" icon={<DownloadOutlined />} disabled={!preview} onClick={() => preview && download('autounattend.xml', preview.xml, 'application/xml')}>
            {T.exportXml}
          </Button>
        </div>
        {previewError ? <Alert type="warning" showIcon message={T.previewFailed} description={previewError.join('; ') || undefined} /> : null}
        <div className="bm-vms-hint">{T.previewHint}</div>
        <pre className="bm-vms-xml" data-testid="xml-preview" aria-label={T.preview} tabIndex={0}>{preview?.xml ?? ''}</pre>
      </div>
    </div>
  );
}
