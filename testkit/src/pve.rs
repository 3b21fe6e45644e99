//! The Proxmox VE HTTP API double (agent.md §14).
