// "Virtual Machines Settings" (web-ui.md §2.7, width 1100): unattend profiles, playbooks and
// the project resource profiles and the service sites' URLs. The Proxmox connection is the
// agent's (no Proxmox tab).

import { Modal, Tabs } from 'antd';
import { S } from '../../../strings';
import type { useProjectResources } from '../projectResources';
import PlaybooksTab from './PlaybooksTab';
import ResourcesTab from './ResourcesTab';
import ServicesTab from './ServicesTab';
import UnattendTab from './UnattendTab';
import './settings.css';

const T = S.vms.vmSettings;

export default function VmSettingsDialog({ open, onClose, resources }: {
  open: boolean;
  onClose: () => void;
  resources: ReturnType<typeof useProjectResources>;
}) {
  return (
    <Modal open={open} onCancel={onClose} footer={null} width={1100} title={T.title} destroyOnHidden className="bm-vms-settings">
      <Tabs
        size="small"
        items={[
          { key: 'unattend', label: T.tabUnattend, children: <UnattendTab /> },
          { key: 'playbooks', label: T.tabPlaybooks, children: <PlaybooksTab /> },
          { key: 'resources', label: T.tabResources, children: <ResourcesTab model={resources} /> },
          { key: 'services', label: T.tabServices, children: <ServicesTab /> },
        ]}
      />
    </Modal>
  );
}
