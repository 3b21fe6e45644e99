// The list beside both editors of the settings dialog (unattend profiles, playbooks): names,
// ★ on the default, the selected one highlighted, a "New" button above.

import { Button, Empty, Spin } from 'antd';
import { PlusOutlined, StarFilled } from '@ant-design/icons';

export interface NamedItem {
  id: string;
  name: string;
  is_default: boolean;
}

export default function NamedList<T extends NamedItem>({ title, items, selected, onSelect, onNew, newLabel, empty, testId }: {
  title: string;
  items: T[] | undefined;
  selected: string | null;
  onSelect: (item: T) => void;
  onNew: () => void;
  newLabel: string;
  empty: string;
  testId: string;
}) {
  return (
    <div className="bm-vms-list" data-testid={testId}>
      <div className="bm-vms-listbar">
        <span className="bm-vm-panetitle">{title}</span>
        <span className="bm-grow" />
        <Button size="small" icon={<PlusOutlined />} onClick={onNew}>{newLabel}</Button>
      </div>
      {items === undefined ? (
        <Spin className="bm-vms-listspin" />
      ) : items.length ? (
        <ul role="listbox" aria-label={title}>
          {items.map((i) => (
            <li key={i.id} role="option" aria-selected={i.id === selected}>
              <button type="button" className={i.id === selected ? 'is-selected' : ''} onClick={() => onSelect(i)}>
                {i.is_default ? <StarFilled className="bm-vms-star" aria-label="default" /> : null}
                <span>{i.name}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={empty} />
      )}
    </div>
  );
}
