//! Playbooks (`api-ops.md` §9): YAML recipes the runner executes inside a VM. One reaches a VM
//! only as `playbook.yml` on its config ISO (`provisioning::service::generate`); no route serves
//! playbooks to VMs.

pub mod routes;
pub mod rules;
pub mod service;
