// "Visual Background" of the theme editor (web-ui.md §2.13): upload images
// (presign → PUT → complete), pick one, tune overlay/blur/dim/colors with a
// live preview of the chosen image under its overlay, and save to
// settings/theme `visual` with its own button; the shell shows it at once.

import { useCallback, useEffect, useRef, useState } from 'react';
import { App, Button, Empty, Form, Image, Popconfirm, Radio, Slider, Spin, Switch, Tooltip } from 'antd';
import { CheckOutlined, DeleteOutlined, ReloadOutlined, SaveOutlined, UploadOutlined } from '@ant-design/icons';
import { errorMessage } from '../../api/client';
import { S } from '../../strings';
import { useThemeLook, useThemeMode } from '../../theme';
import { ASSET_MAX_BYTES, ASSET_TYPES, settingsApi, themeAssetsApi, type ThemeAsset, type Visual } from '../../api/settings';
import { applyVisual, loadVisual, normaliseVisual } from './background';

const T = S.settingsPage;

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

const fileName = (a: ThemeAsset) => a.object_key.split('/').pop()?.replace(/^[0-9a-f-]{36}-/, '') ?? a.id;

/** A color box of the form (value/onChange from its Form.Item); unset shows `fallback`. */
function ColorInput({ value, onChange, fallback, id }: { value?: string; onChange?: (v: string) => void; fallback: string; id?: string }) {
  return <input id={id} type="color" value={value ?? fallback} onChange={(e) => onChange?.(e.target.value)} />;
}

/** The chosen image as the shell will show it: position, size, blur and the overlay of the current mode. */
function Preview({ url, v, fallback }: { url: string | null; v: Partial<Visual>; fallback: string }) {
  const mode = useThemeMode();
  const color = (mode === 'dark' ? v.overlayColorDark : v.overlayColorLight) ?? fallback;
  if (!url || !v.enabled) return <div className="bm-set-preview is-empty bm-muted" data-testid="background-preview">{T.previewNone}</div>;
  return (
    <div className="bm-set-preview" data-testid="background-preview" aria-label={T.preview}>
      <div
        className="bm-set-preview-image"
        style={{
          backgroundImage: `url("${url}")`,
          backgroundPosition: v.backgroundPosition === 'top' ? 'center top' : 'center',
          backgroundSize: v.backgroundSize ?? 'cover',
          filter: v.blurPx ? `blur(${v.blurPx}px)` : undefined,
          transform: v.blurPx ? 'scale(1.02)' : undefined,
        }}
      />
      <div className="bm-set-preview-overlay" style={{ background: color, opacity: Math.min(1, (v.overlayOpacity ?? 0) + (v.dimStrength ?? 0)) }} />
      <div className="bm-set-preview-panel">{T.previewPanel}</div>
    </div>
  );
}

export default function VisualBackground() {
  const { message } = App.useApp();
  const mode = useThemeMode();
  const look = useThemeLook();
  const [form] = Form.useForm<Visual>();
  const watched = Form.useWatch([], form) as Partial<Visual> | undefined;
  const [assets, setAssets] = useState<ThemeAsset[] | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [busy, setBusy] = useState(false);
  const [uploading, setUploading] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);

  const loadAssets = useCallback(() => {
    themeAssetsApi.list().then(setAssets, (e: unknown) => {
      setAssets([]);
      message.error(errorMessage(e));
    });
  }, [message]);

  useEffect(() => {
    setLoaded(false);
    loadVisual().then(
      (v) => {
        form.setFieldsValue(v);
        setSelectedId(v.backgroundAssetId);
        setLoaded(true);
      },
      (e: unknown) => message.error(errorMessage(e)),
    );
    loadAssets();
  }, [form, loadAssets, message]);

  const upload = async (file: File) => {
    if (!ASSET_TYPES.includes(file.type)) return void message.error(T.uploadType);
    if (file.size > ASSET_MAX_BYTES) return void message.error(T.uploadTooBig);
    setUploading(true);
    try {
      const a = await themeAssetsApi.upload(file);
      message.success(T.uploaded);
      setSelectedId(a.id);
      form.setFieldsValue({ enabled: true });
      loadAssets();
    } catch (e) {
      message.error(`${T.uploadFailed}: ${errorMessage(e)}`);
    } finally {
      setUploading(false);
    }
  };

  const remove = async (a: ThemeAsset) => {
    try {
      await themeAssetsApi.remove(a.id);
      message.success(T.imageDeleted);
      if (selectedId === a.id) setSelectedId(null);
      loadAssets();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const save = async () => {
    const values = await form.validateFields();
    const visual = normaliseVisual({
      ...form.getFieldsValue(true),
      ...values,
      backgroundAssetId: selectedId,
      mode: selectedId ? 'image' : 'none',
    });
    setBusy(true);
    try {
      await settingsApi.put('theme', { visual });
      await applyVisual(visual);
      message.success(T.visualSaved);
    } catch (e) {
      message.error(`${S.ws.saveFailed}: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const selected = assets?.find((a) => a.id === selectedId);
  return (
    <div data-testid="settings-background">
      <Form<Visual> form={form} layout="vertical" disabled={!loaded || busy}>
        <Form.Item name="enabled" label={T.backgroundEnabled} valuePropName="checked">
          <Switch />
        </Form.Item>
        <div className="bm-set-row">
          <input
            ref={fileInput}
            type="file"
            accept={ASSET_TYPES.join(',')}
            style={{ display: 'none' }}
            data-testid="background-file"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void upload(f);
            }}
          />
          <Button icon={<UploadOutlined />} loading={uploading} onClick={() => fileInput.current?.click()}>
            {T.upload}
          </Button>
          <span className="bm-muted">{T.uploadHelp}</span>
          <span className="bm-ws-spacer" />
          <Tooltip title={S.crud.refresh}>
            <Button aria-label={S.crud.refresh} icon={<ReloadOutlined />} onClick={loadAssets} />
          </Tooltip>
        </div>
        {assets === null ? (
          <Spin />
        ) : assets.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={T.noImages} />
        ) : (
          <ul className="bm-set-assets" aria-label={T.background}>
            {assets.map((a) => {
              const isSel = a.id === selectedId;
              return (
                <li key={a.id} className={'bm-set-asset' + (isSel ? ' is-selected' : '')} data-testid="background-asset">
                  {a.image_url ? (
                    <Image src={a.image_url} alt={fileName(a)} width={120} height={68} style={{ objectFit: 'cover' }} />
                  ) : (
                    <div className="bm-set-asset-ph" />
                  )}
                  <div className="bm-set-asset-info">
                    <div className="bm-set-asset-name" title={fileName(a)}>
                      {fileName(a)}
                    </div>
                    <div className="bm-muted">
                      {sizeText(a.size_bytes)}
                      {a.width && a.height ? ` · ${a.width}×${a.height}` : ''}
                    </div>
                  </div>
                  <Button
                    size="small"
                    type={isSel ? 'primary' : 'default'}
                    icon={isSel ? <CheckOutlined /> : undefined}
                    onClick={() => {
                      setSelectedId(isSel ? null : a.id);
                      if (!isSel) form.setFieldsValue({ enabled: true });
                    }}
                  >
                    {isSel ? T.selected : T.select}
                  </Button>
                  <Popconfirm title={T.deleteImage} onConfirm={() => void remove(a)} okButtonProps={{ danger: true }} okText={S.crud.delete} cancelText={S.crud.cancel}>
                    <Button size="small" danger aria-label={`${S.crud.delete} ${fileName(a)}`} icon={<DeleteOutlined />} />
                  </Popconfirm>
                </li>
              );
            })}
          </ul>
        )}
        <div className="bm-set-sliders">
          <Form.Item name="overlayOpacity" label={T.overlay}>
            <Slider min={0} max={1} step={0.05} />
          </Form.Item>
          <Form.Item name="dimStrength" label={T.dim}>
            <Slider min={0} max={1} step={0.05} />
          </Form.Item>
          <Form.Item name="blurPx" label={T.blur}>
            <Slider min={0} max={24} step={1} />
          </Form.Item>
          <Form.Item name="backgroundPosition" label={T.position}>
            <Radio.Group
              optionType="button"
              options={[
                { value: 'center', label: T.positionCenter },
                { value: 'top', label: T.positionTop },
              ]}
            />
          </Form.Item>
          <Form.Item name="overlayColorLight" label={T.overlayLight}>
            <ColorInput fallback={look.palettes.light.surfaceBase} />
          </Form.Item>
          <Form.Item name="overlayColorDark" label={T.overlayDark}>
            <ColorInput fallback={look.palettes.dark.surfaceBase} />
          </Form.Item>
          <Form.Item name="backgroundSize" label={T.size}>
            <Radio.Group
              optionType="button"
              options={[
                { value: 'cover', label: T.sizeCover },
                { value: 'contain', label: T.sizeContain },
                { value: 'auto', label: T.sizeAuto },
              ]}
            />
          </Form.Item>
        </div>
        <Preview url={selected?.image_url ?? null} v={{ ...watched, enabled: watched?.enabled ?? false }} fallback={look.palettes[mode].surfaceBase} />
        <Button icon={<SaveOutlined />} loading={busy} onClick={() => void save()}>
          {T.saveVisual}
        </Button>
      </Form>
    </div>
  );
}
