//! `proxmox.*` commands served by the Proxmox VE HTTP API (agent.md §10.1, §10.2).
