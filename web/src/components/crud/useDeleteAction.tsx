// Delete with a confirmation, then a toast that offers Undo where the item
// can be re-created as it was (same id and fields).

import { App, Button } from 'antd';
import { errorMessage } from '../../api/client';
import { S } from '../../strings';

const UNDO_SECONDS = 8;

export interface DeleteActionOptions<T> {
  remove: (item: T) => Promise<unknown>;
  /** Re-creates the deleted item; without it there is no Undo. */
  recreate?: (item: T) => Promise<unknown>;
  /** Confirmation title and body for an item. */
  confirm: (item: T) => { title: string; content?: string };
  /** Short name for the toasts ("Proxy 1.2.3.4:8080"). */
  label: (item: T) => string;
  /** Runs after the delete and after an undo. */
  onChange?: () => void;
}

export function useDeleteAction<T>(opts: DeleteActionOptions<T>): (item: T) => void {
  const { modal, message } = App.useApp();
  const { remove, recreate, confirm, label, onChange } = opts;

  return (item: T) => {
      const { title, content } = confirm(item);
      modal.confirm({
        title,
        content,
        okText: S.crud.deleteConfirm,
        okButtonProps: { danger: true },
        cancelText: S.crud.cancel,
        autoFocusButton: 'cancel',
        onOk: async () => {
          try {
            await remove(item);
          } catch (e) {
            message.error(errorMessage(e));
            return;
          }
          onChange?.();
          const key = `deleted-${label(item)}`;
          const undo = async () => {
            message.destroy(key);
            try {
              await recreate!(item);
              message.success(S.crud.restored(label(item)));
            } catch (e) {
              message.error(`${S.crud.restoreFailed}: ${errorMessage(e)}`);
            }
            onChange?.();
          };
          message.success({
            key,
            duration: recreate ? UNDO_SECONDS : 3,
            content: (
              <span className="bm-undo-toast">
                {S.crud.deleted(label(item))}
                {recreate ? (
                  <Button size="small" type="link" onClick={() => void undo()}>
                    {S.crud.undo}
                  </Button>
                ) : null}
              </span>
            ),
          });
        },
      });
  };
}
