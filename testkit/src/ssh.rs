//! The SSH double: an in-process russh server acting as the Proxmox host shell.
