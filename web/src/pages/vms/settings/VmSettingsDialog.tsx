// "Virtual Machines Settings" (web-ui.md §2.7, width 1100): the clone source and storage
// (Proxmox), unattend profiles, playbooks, the project resource profiles and the service
// sites' URLs. The Proxmox connection itself is the agent's.

import { Modal, Tabs } from 'antd';
import { S } from '../../../strings';
import type { Computer } from '../computers';
import type { NoComputer } from '../Disconnected';
import type { useProjectResources } from '../projectResources';
import ProxmoxTab from './ProxmoxTab';
import PlaybooksTab from './PlaybooksTab';
import ResourcesTab from './ResourcesTab';
import ServicesTab from './ServicesTab';
import UnattendTab from './UnattendTab';
import './settings.css';

const T = S.vms.vmSettings;

export default function VmSettingsDialog({ open, onClose, resources, computer, noComputer }: {
  open: boolean;
  onClose: () => void;
  resources: ReturnType<typeof useProjectResources>;
  computer: Computer | undefined;
  noComputer: NoComputer | null;
}) {
  return (
    <Modal open={open} onCancel={onClose} footer={null} width={1100} title={T.title} destroyOnHidden className="bm-vms-settings">
      <Tabs
        size="small"
        items={[
          { key: 'proxmox', label: T.tabProxmox, children: <ProxmoxTab computer={computer} noComputer={noComputer} /> },
          { key: 'unattend', label: T.tabUnattend, children: <UnattendTab /> },
          { key: 'playbooks', label: T.tabPlaybooks, children: <PlaybooksTab /> },
          { key: 'resources', label: T.tabResources, children: <ResourcesTab model={resources} /> },
          { key: 'services', label: T.tabServices, children: <ServicesTab /> },
        ]}
      />
    </Modal>
  );
}
