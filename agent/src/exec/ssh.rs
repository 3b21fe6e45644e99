//! `proxmox.ssh-*` and ISO commands served over SSH (agent.md §10.3, §10.4).
