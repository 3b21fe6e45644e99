// "Theme Colors" card (web-ui.md §2.13): the dark/light mode, apply a saved
// palette preset at once, or open the theme editor (loaded only when opened),
// which also holds the visual background.

import { lazy, Suspense, useCallback, useEffect, useState, type ReactNode } from 'react';
import { App, Button, Card, Segmented, Select, Space } from 'antd';
import { EditOutlined } from '@ant-design/icons';
import { errorMessage } from '../../api/client';
import { usePolling } from '../../hooks';
import { S } from '../../strings';
import { setThemeLook, setThemeMode, useThemeMode, type ThemeMode } from '../../theme';
import { loadThemeDoc, themeDocApi } from './themeDoc';

const ThemeEditor = lazy(() => import('./ThemeEditor'));
const T = S.themeEditor;

export default function ThemeCard({ reloadKey, icon }: { reloadKey: number; icon: ReactNode }) {
  const { message } = App.useApp();
  const mode = useThemeMode();
  const load = useCallback(() => loadThemeDoc(), []);
  const doc = usePolling(load, 120_000);
  const { refresh } = doc;
  const [picked, setPicked] = useState<string | undefined>();
  const [editorOpen, setEditorOpen] = useState(false);
  const [editorLoaded, setEditorLoaded] = useState(false);

  useEffect(() => {
    if (reloadKey) refresh();
  }, [reloadKey, refresh]);
  const active = doc.data?.activePresetId ?? undefined;
  useEffect(() => setPicked(active), [active]);

  const apply = async () => {
    const preset = doc.data?.presets.find((p) => p.id === picked);
    if (!doc.data || !preset) return;
    const look = { ...doc.data.look, palettes: preset.palettes };
    try {
      await themeDocApi.saveLook(look, preset.id);
      setThemeLook(look);
      message.success(T.applied);
      refresh();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  return (
    <Card className="bm-card bm-set-card" size="small" data-testid="settings-theme-colors" title={<span className="bm-card-title">{icon} {T.cardTitle}</span>}>
      <Space wrap>
        <Segmented<ThemeMode>
          value={mode}
          onChange={setThemeMode}
          aria-label={S.settingsPage.mode}
          options={[
            { value: 'dark', label: S.settingsPage.dark },
            { value: 'light', label: S.settingsPage.light },
          ]}
        />
        <Select
          style={{ width: 220 }}
          aria-label={T.selectSaved}
          placeholder={T.selectSaved}
          loading={!doc.data && doc.loading}
          value={picked}
          onChange={setPicked}
          options={(doc.data?.presets ?? []).map((p) => ({ value: p.id, label: p.name }))}
        />
        <Button disabled={!picked} onClick={() => void apply()}>
          {T.apply}
        </Button>
        <Button
          type="primary"
          icon={<EditOutlined />}
          onClick={() => {
            setEditorLoaded(true);
            setEditorOpen(true);
          }}
        >
          {T.open}
        </Button>
      </Space>
      {editorLoaded && (
        <Suspense fallback={null}>
          <ThemeEditor open={editorOpen} onClose={() => setEditorOpen(false)} onSaved={refresh} />
        </Suspense>
      )}
    </Card>
  );
}
