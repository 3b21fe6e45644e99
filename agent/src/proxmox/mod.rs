//! The Proxmox VE HTTP API client (agent.md §12).
