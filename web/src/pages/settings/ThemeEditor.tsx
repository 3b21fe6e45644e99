// Theme editor drawer (web-ui.md §2.13): saved palette presets, fonts and
// corner radii, the visual background (saved by its own button), and the 28
// color tokens of each mode. Every edit applies
// live to the whole app; Save stores it in settings/theme, closing without
// saving puts the stored look back.

import { useEffect, useState } from 'react';
import { App, Button, Drawer, Empty, Input, InputNumber, Popconfirm, Segmented, Select, Space, Spin } from 'antd';
import { BgColorsOutlined, DeleteOutlined, SaveOutlined, UndoOutlined } from '@ant-design/icons';
import { errorMessage } from '../../api/client';
import { S } from '../../strings';
import {
  DEFAULT_LOOK,
  PALETTES,
  PALETTE_GROUPS,
  setThemeLook,
  useThemeMode,
  type PaletteToken,
  type Shape,
  type ThemeLook,
  type ThemeMode,
  type Typography,
} from '../../theme';
import { loadThemeDoc, themeDocApi, type ThemeDoc } from './themeDoc';
import VisualBackground from './VisualBackground';

const T = S.themeEditor;
const HEX = /^#[0-9a-f]{6}$/i;

/** The browser's EyeDropper (Chromium only), typed here since lib.dom lacks it. */
type EyeDropperCtor = new () => { open: () => Promise<{ sRGBHex: string }> };
const eyeDropper = (window as unknown as { EyeDropper?: EyeDropperCtor }).EyeDropper;

function ColorRow({ token, value, onChange }: { token: PaletteToken; value: string; onChange: (hex: string) => void }) {
  const { message } = App.useApp();
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  const label = T.tokens[token];
  return (
    <div className="bm-theme-row" data-testid={`theme-token-${token}`}>
      <input type="color" aria-label={label} value={value} onChange={(e) => onChange(e.target.value)} />
      <span className="bm-theme-token">{label}</span>
      <Input
        size="small"
        className="bm-mono"
        aria-label={`${label} hex`}
        value={text}
        status={HEX.test(text) ? undefined : 'error'}
        title={HEX.test(text) ? undefined : T.badHex}
        style={{ width: 96 }}
        onChange={(e) => {
          setText(e.target.value);
          if (HEX.test(e.target.value)) onChange(e.target.value.toLowerCase());
        }}
      />
      <Button
        size="small"
        type="text"
        icon={<BgColorsOutlined />}
        aria-label={`${T.pick}: ${label}`}
        title={T.pick}
        onClick={() => {
          if (!eyeDropper) return void message.warning(T.noEyedropper);
          new eyeDropper().open().then(
            (r) => onChange(r.sRGBHex.toLowerCase()),
            () => {
              // Escape closes the picker: nothing to do.
            },
          );
        }}
      />
    </div>
  );
}

export default function ThemeEditor({ open, onClose, onSaved }: { open: boolean; onClose: () => void; onSaved: () => void }) {
  const { message } = App.useApp();
  const currentMode = useThemeMode();
  const [doc, setDoc] = useState<ThemeDoc | null>(null);
  const [draft, setDraft] = useState<ThemeLook>(DEFAULT_LOOK);
  const [activePreset, setActivePreset] = useState<string | null>(null);
  const [paletteMode, setPaletteMode] = useState<ThemeMode>(currentMode);
  const [picked, setPicked] = useState<string | undefined>();
  const [newName, setNewName] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    setDoc(null);
    loadThemeDoc().then(
      (d) => {
        setDoc(d);
        setDraft(d.look);
        setActivePreset(d.activePresetId);
        setPicked(d.activePresetId ?? undefined);
      },
      (e: unknown) => message.error(errorMessage(e)),
    );
  }, [open, message]);

  const edit = (next: ThemeLook) => {
    setDraft(next);
    setThemeLook(next);
  };
  const setColor = (token: PaletteToken, hex: string) =>
    edit({ ...draft, palettes: { ...draft.palettes, [paletteMode]: { ...draft.palettes[paletteMode], [token]: hex } } });
  const setFont = (k: keyof Typography, v: string) => edit({ ...draft, typography: { ...draft.typography, [k]: v } });
  const setRadius = (k: keyof Shape, v: number | null) => edit({ ...draft, shape: { ...draft.shape, [k]: Math.min(24, Math.max(0, v ?? 0)) } });

  const close = () => {
    // Unsaved edits were only a preview.
    if (doc) setThemeLook(doc.look);
    onClose();
  };

  const save = async () => {
    setBusy(true);
    try {
      await themeDocApi.saveLook(draft, activePreset);
      message.success(T.saved);
      setDoc(doc && { ...doc, look: draft });
      onSaved();
      onClose();
    } catch (e) {
      message.error(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const saveAs = async () => {
    const name = newName.trim();
    if (!name) return void message.warning(T.nameFirst);
    try {
      const p = await themeDocApi.savePreset(name, draft.palettes);
      setDoc(doc && { ...doc, presets: [...doc.presets, p].sort((a, b) => a.name.localeCompare(b.name)) });
      setPicked(p.id);
      setActivePreset(p.id);
      setNewName('');
      message.success(T.savedAs(name));
      onSaved();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const removePreset = async (id: string) => {
    try {
      await themeDocApi.deletePreset(id);
      setDoc(doc && { ...doc, presets: doc.presets.filter((p) => p.id !== id) });
      setPicked(undefined);
      if (activePreset === id) setActivePreset(null);
      message.success(T.deleted);
      onSaved();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const preset = doc?.presets.find((p) => p.id === picked);
  const palette = draft.palettes[paletteMode];
  return (
    <Drawer
      open={open}
      width={640}
      title={T.title}
      onClose={close}
      destroyOnHidden
      data-testid="theme-editor"
      extra={
        <Button type="primary" icon={<SaveOutlined />} loading={busy} disabled={!doc} onClick={() => void save()}>
          {S.crud.save}
        </Button>
      }
    >
      {!doc ? (
        <Spin />
      ) : (
        <div className="bm-theme-editor">
          <h4>{T.savedThemes}</h4>
          <Space wrap>
            <Select
              style={{ width: 220 }}
              aria-label={T.selectSaved}
              placeholder={T.selectSaved}
              value={picked}
              onChange={setPicked}
              notFoundContent={<Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={T.noSaved} />}
              options={doc.presets.map((p) => ({ value: p.id, label: p.name }))}
            />
            <Button
              disabled={!preset}
              onClick={() => {
                if (!preset) return;
                setActivePreset(preset.id);
                edit({ ...draft, palettes: preset.palettes });
              }}
            >
              {T.apply}
            </Button>
            <Popconfirm title={T.deleteConfirm} disabled={!preset} onConfirm={() => preset && removePreset(preset.id)} okText={S.crud.delete} cancelText={S.crud.cancel}>
              <Button danger icon={<DeleteOutlined />} disabled={!preset} aria-label={S.crud.delete} />
            </Popconfirm>
          </Space>
          <Space.Compact block className="bm-theme-saveas">
            <Input placeholder={T.newName} aria-label={T.newName} value={newName} onChange={(e) => setNewName(e.target.value)} maxLength={60} />
            <Button onClick={() => void saveAs()}>{T.saveAs}</Button>
          </Space.Compact>

          <h4>{T.typography}</h4>
          <div className="bm-theme-fonts">
            {(['fontPrimary', 'fontCondensed', 'fontMono'] as const).map((k) => (
              <label key={k}>
                <span>{T[k]}</span>
                <Input size="small" aria-label={T[k]} value={draft.typography[k]} onChange={(e) => setFont(k, e.target.value)} />
              </label>
            ))}
          </div>
          <div className="bm-theme-radii">
            {(Object.keys(T.radius) as (keyof Shape)[]).map((k) => (
              <label key={k}>
                <span>{T.radius[k]}</span>
                <InputNumber size="small" min={0} max={24} aria-label={T.radius[k]} value={draft.shape[k]} onChange={(v) => setRadius(k, v)} addonAfter="px" />
              </label>
            ))}
          </div>

          <h4>{T.visual}</h4>
          <VisualBackground />

          <h4>{T.palette}</h4>
          <Space wrap>
            <Segmented<ThemeMode>
              value={paletteMode}
              onChange={setPaletteMode}
              options={[
                { value: 'light', label: T.light },
                { value: 'dark', label: T.dark },
              ]}
            />
            <Button icon={<UndoOutlined />} onClick={() => edit({ ...draft, palettes: { ...draft.palettes, [paletteMode]: PALETTES[paletteMode] } })}>
              {T.reset}
            </Button>
          </Space>
          {PALETTE_GROUPS.map((g) => (
            <div key={g.group} className="bm-theme-group">
              <div className="bm-theme-group-title">{T.groups[g.group]}</div>
              <div className="bm-theme-grid">
                {g.tokens.map((t) => (
                  <ColorRow key={t} token={t} value={palette[t]} onChange={(hex) => setColor(t, hex)} />
                ))}
              </div>
            </div>
          ))}
        </div>
      )}
    </Drawer>
  );
}
