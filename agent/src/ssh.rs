//! SSH to the Proxmox host over russh (agent.md §13).
