// The cards of the unattend profile editor (web-ui.md §2.7 "Unattend Profile"), bound to the
// profile `config` of api-ops.md §8.1 by antd form paths.

import { Checkbox, Form, Input, InputNumber, Select } from 'antd';
import type { FormInstance } from 'antd';
import {
  EFFECT_KEYS,
  ICON_KEYS,
  START_FOLDER_KEYS,
  WINDOWS_FLAGS,
  type UnattendConfig,
} from '../../../api/provisioning';
import { S } from '../../../strings';

const T = S.vms.vmSettings;

const options = (labels: Record<string, string>) => Object.entries(labels).map(([value, label]) => ({ value, label }));

/** camelCase key → "Camel case" for the effect, icon and folder checkboxes. */
const label = (key: string) => key.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());

function Card({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <fieldset className="bm-vms-card">
      <legend>{title}</legend>
      {children}
    </fieldset>
  );
}

function Tags({ name, label: text }: { name: (string | number)[]; label: string }) {
  return (
    <Form.Item name={name} label={text}>
      <Select mode="tags" size="small" placeholder={T.tagsHint} tokenSeparators={[',', ' ']} open={false} suffixIcon={null} />
    </Form.Item>
  );
}

function Checks({ prefix, keys }: { prefix: string[]; keys: readonly string[] }) {
  return (
    <div className="bm-vms-checks">
      {keys.map((k) => (
        <Form.Item key={k} name={[...prefix, k]} valuePropName="checked" noStyle>
          <Checkbox>{label(k)}</Checkbox>
        </Form.Item>
      ))}
    </div>
  );
}

export default function UnattendForm({ form, onChange }: { form: FormInstance<UnattendConfig>; onChange: () => void }) {
  const nameMode = Form.useWatch(['user', 'nameMode'], form);
  const computerMode = Form.useWatch(['computerName', 'mode'], form);
  const visualMode = Form.useWatch(['visualEffects', 'mode'], form);
  const iconMode = Form.useWatch(['desktopIcons', 'mode'], form);
  const removalMode = Form.useWatch(['softwareRemoval', 'mode'], form);
  const capabilityMode = Form.useWatch(['capabilityRemoval', 'mode'], form);
  return (
    <Form form={form} layout="vertical" size="small" onValuesChange={onChange} className="bm-vms-form" aria-label={S.vms.vmSettings.tabUnattend}>
      <Card title={T.region}>
        <div className="bm-vms-row">
          <Form.Item name={['locale', 'uiLanguage']} label={T.uiLanguage}><Input placeholder="en-US" /></Form.Item>
          <Form.Item name={['locale', 'geoLocation']} label={T.geoLocation}><InputNumber min={1} max={100000} /></Form.Item>
        </div>
        <Form.Item
          name={['locale', 'keyboardLayouts']}
          label={T.keyboards}
          getValueProps={(v?: { language: string; layout: string }[]) => ({ value: (v ?? []).map((l) => `${l.language}:${l.layout}`) })}
          normalize={(tags: string[]) =>
            tags.slice(0, 3).map((t) => {
              const [language = '', layout = ''] = t.split(':');
              return { language, layout };
            })
          }
        >
          <Select mode="tags" size="small" placeholder="0409:00000409" open={false} suffixIcon={null} />
        </Form.Item>
        <Form.Item name={['locale', 'timeZone']} label={T.timeZone}><Input placeholder="UTC" /></Form.Item>
      </Card>

      <Card title={T.account}>
        <div className="bm-vms-row">
          <Form.Item name={['user', 'nameMode']} label={T.nameMode}><Select options={options(T.nameModes)} /></Form.Item>
          {nameMode === 'custom' ? (
            <>
              <Form.Item name={['user', 'customName']} label={T.customName} rules={[{ required: true, whitespace: true, message: T.required }]}><Input maxLength={200} /></Form.Item>
              <Form.Item name={['user', 'customNameSuffix']} label={T.suffix}><Select options={options(T.suffixes)} /></Form.Item>
            </>
          ) : null}
        </div>
        <div className="bm-vms-row">
          <Form.Item name={['user', 'displayName']} label={T.displayName}><Input maxLength={200} /></Form.Item>
          <Form.Item name={['user', 'password']} label={T.password}><Input.Password maxLength={200} autoComplete="new-password" /></Form.Item>
        </div>
        <div className="bm-vms-row">
          <Form.Item name={['user', 'group']} label={T.group}>
            <Select options={[{ value: 'Administrators', label: 'Administrators' }, { value: 'Users', label: 'Users' }]} />
          </Form.Item>
          <Form.Item name={['user', 'autoLogonCount']} label={T.autoLogon}><InputNumber min={0} max={9_999_999} /></Form.Item>
        </div>
        <div className="bm-vms-row">
          <Form.Item name={['computerName', 'mode']} label={T.computerMode}><Select options={options(T.computerModes)} /></Form.Item>
          {computerMode === 'custom' ? (
            <Form.Item name={['computerName', 'customName']} label={T.computerName} rules={[{ required: true, whitespace: true, message: T.required }]}><Input maxLength={15} /></Form.Item>
          ) : null}
        </div>
        <Form.Item name="productKey" label={T.productKey}><Input placeholder="XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" allowClear /></Form.Item>
      </Card>

      <Card title={T.visual}>
        <Form.Item name={['visualEffects', 'mode']}><Select options={options(T.visualModes)} aria-label={T.visual} /></Form.Item>
        {visualMode === 'custom' || visualMode === 'custom_randomize' ? <Checks prefix={['visualEffects', 'effects']} keys={EFFECT_KEYS} /> : null}
      </Card>

      <Card title={T.desktop}>
        <Form.Item name={['desktopIcons', 'mode']}><Select options={options(T.iconModes)} aria-label={T.desktop} /></Form.Item>
        {iconMode === 'custom' || iconMode === 'custom_randomize' ? <Checks prefix={['desktopIcons', 'icons']} keys={ICON_KEYS} /> : null}
        <div className="bm-vms-sub">{T.startFolders}</div>
        <Checks prefix={['desktopIcons', 'startFolders']} keys={START_FOLDER_KEYS} />
        <Form.Item name={['desktopIcons', 'deleteEdgeShortcut']} valuePropName="checked"><Checkbox>{T.deleteEdge}</Checkbox></Form.Item>
      </Card>

      <Card title={T.bloat}>
        <Form.Item name={['softwareRemoval', 'mode']} label={T.packagesMode}><Select options={options(T.removalModes)} /></Form.Item>
        {removalMode !== 'random' ? <Tags name={['softwareRemoval', 'fixedPackages']} label={T.fixedPackages} /> : null}
        {removalMode !== 'fixed' ? (
          <>
            <Tags name={['softwareRemoval', 'randomPool']} label={T.randomPool} />
            <div className="bm-vms-row">
              <Form.Item name={['softwareRemoval', 'randomCount', 'min']} label={T.countMin}><InputNumber min={0} max={500} /></Form.Item>
              <Form.Item name={['softwareRemoval', 'randomCount', 'max']} label={T.countMax}><InputNumber min={0} max={500} /></Form.Item>
            </div>
          </>
        ) : null}
        <Tags name={['softwareRemoval', 'neverRemove']} label={T.neverRemove} />
        <Form.Item name={['capabilityRemoval', 'mode']} label={T.capabilitiesMode}><Select options={options(T.removalModes)} /></Form.Item>
        {capabilityMode !== 'random' ? <Tags name={['capabilityRemoval', 'fixedCapabilities']} label={T.fixedCapabilities} /> : null}
        {capabilityMode !== 'fixed' ? <Tags name={['capabilityRemoval', 'randomPool']} label={T.capabilityPool} /> : null}
      </Card>

      <Card title={T.windows}>
        <div className="bm-vms-checks">
          {WINDOWS_FLAGS.map((f) => (
            <Form.Item key={f} name={['windowsSettings', f]} valuePropName="checked" noStyle>
              <Checkbox>{T.flags[f]}</Checkbox>
            </Form.Item>
          ))}
        </div>
      </Card>

      <Card title={T.script}>
        <div className="bm-vms-row">
          <Form.Item name={['customScript', 'executable']} label={T.executable}><Input placeholder="START.ps1" maxLength={100} /></Form.Item>
          <Form.Item name={['customScript', 'delaySeconds']} label={T.delay}><InputNumber min={0} max={600} /></Form.Item>
        </div>
      </Card>
    </Form>
  );
}
