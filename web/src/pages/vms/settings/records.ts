// What the two editors of the settings dialog share: a named record list (load, select,
// delete after a confirmation, ask before unsaved edits are dropped) and saving text as a file.

import { useCallback, useEffect, useRef, useState } from 'react';
import { App } from 'antd';
import { errorMessage } from '../../../api/client';
import { S } from '../../../strings';
import type { NamedItem } from './NamedList';

interface RecordApi<T> {
  list: () => Promise<T[]>;
  remove: (id: string) => Promise<unknown>;
}

export function useNamedRecords<T extends NamedItem>(api: RecordApi<T>, confirmText: (name: string) => string) {
  const { message, modal } = App.useApp();
  const [items, setItems] = useState<T[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [selected, select] = useState<string | null>(null);

  const reload = useCallback(
    () =>
      api.list().then(
        (list) => (setItems(list), setError(null)),
        (e: unknown) => (setItems((old) => old ?? []), setError(errorMessage(e))),
      ),
    [api],
  );
  useEffect(() => void reload(), [reload]);

  const remove = (item: T, after: () => void) =>
    modal.confirm({
      title: confirmText(item.name),
      okText: S.vms.vmSettings.delete,
      okButtonProps: { danger: true },
      onOk: async () => {
        try {
          await api.remove(item.id);
          message.success(S.vms.vmSettings.deleted(item.name));
          await reload();
          after();
        } catch (e) {
          message.error(errorMessage(e));
        }
      },
    });

  // Unsaved edits in the editor: switching to another record asks first.
  const dirty = useRef(false);
  const setDirty = useCallback((d: boolean) => void (dirty.current = d), []);
  const guard = (go: () => void) => {
    if (!dirty.current) return go();
    modal.confirm({
      title: S.vms.vmSettings.discard,
      okText: S.vms.vmSettings.discardOk,
      onOk: () => {
        dirty.current = false;
        go();
      },
    });
  };

  return { items, error, selected, select, reload, remove, setDirty, guard };
}

/** Offers `text` as a download named `filename`. */
export function download(filename: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  URL.revokeObjectURL(url);
}
