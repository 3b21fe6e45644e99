//! The simulated Proxmox host that both doubles act on: its VMs (with their config files), the
//! files under `/var/lib/vz` and its task log. The PVE HTTP double and the SSH double each hold
//! a clone of one `Host`, so a change made through one is seen through the other.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where ISO images of the `local` storage live.
pub const ISO_DIR: &str = "/var/lib/vz/template/iso/";
/// Where VM config files live (`<vmid>.conf`).
pub const QEMU_CONFIG_DIR: &str = "/etc/pve/qemu-server/";

/// A VM's power state as Proxmox reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmStatus {
    Running,
    Stopped,
    /// Suspended: PVE reports `status: running` with `qmpstatus: paused`.
    Paused,
}

impl VmStatus {
    /// The `status` field of `status/current` and the qemu list.
    pub fn status(self) -> &'static str {
        match self {
            VmStatus::Running | VmStatus::Paused => "running",
            VmStatus::Stopped => "stopped",
        }
    }

    /// The `qmpstatus` field of `status/current`.
    pub fn qmpstatus(self) -> &'static str {
        match self {
            VmStatus::Running => "running",
            VmStatus::Stopped => "stopped",
            VmStatus::Paused => "paused",
        }
    }
}

/// One VM. Its name and template flag live in the config, as on a real host, so the config
/// file and the API views can never disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vm {
    pub status: VmStatus,
    pub config: BTreeMap<String, String>,
}

impl Vm {
    /// A stopped VM with a small, realistic config.
    pub fn new(name: &str) -> Self {
        let config = [
            ("name", name),
            ("memory", "2048"),
            ("cores", "2"),
            ("ostype", "win11"),
            ("scsi0", "local-lvm:vm-disk-0,size=32G"),
            ("ide2", "none,media=cdrom"),
            ("net0", "virtio=BC:24:11:00:00:01,bridge=vmbr0"),
        ];
        Vm {
            status: VmStatus::Stopped,
            config: config.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    /// The same VM marked as a template.
    pub fn template(mut self) -> Self {
        self.config.insert("template".into(), "1".into());
        self
    }

    pub fn name(&self) -> &str {
        self.config.get("name").map(String::as_str).unwrap_or("")
    }

    pub fn is_template(&self) -> bool {
        self.config.get("template").is_some_and(|v| v == "1")
    }
}

/// One entry of the host's task log. `exitstatus` is `None` while the task runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub upid: String,
    pub kind: String,
    pub id: String,
    pub user: String,
    pub starttime: u64,
    pub endtime: Option<u64>,
    pub exitstatus: Option<String>,
}

#[derive(Debug)]
pub struct HostState {
    pub node: String,
    pub vms: BTreeMap<u32, Vm>,
    /// Absolute path → contents.
    pub files: BTreeMap<String, Vec<u8>>,
    /// UPID → task.
    pub tasks: BTreeMap<String, Task>,
}

/// A shared handle on one simulated host.
#[derive(Clone, Debug)]
pub struct Host(Arc<Mutex<HostState>>);

/// Task pids only need to be distinct and look like pids.
static NEXT_PID: AtomicU32 = AtomicU32::new(0x0001_2000);

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Host {
    /// An empty host whose node is called `node`.
    pub fn new(node: &str) -> Self {
        Host(Arc::new(Mutex::new(HostState {
            node: node.to_string(),
            vms: BTreeMap::new(),
            files: BTreeMap::new(),
            tasks: BTreeMap::new(),
        })))
    }

    /// Runs `f` with the state locked, for changes that must happen together.
    pub fn with<R>(&self, f: impl FnOnce(&mut HostState) -> R) -> R {
        f(&mut self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, HostState> {
        // A test that panicked while holding the lock must not hide the real failure.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn node(&self) -> String {
        self.lock().node.clone()
    }

    // ---- VMs ----

    pub fn insert_vm(&self, vmid: u32, vm: Vm) {
        self.lock().vms.insert(vmid, vm);
    }

    pub fn vm(&self, vmid: u32) -> Option<Vm> {
        self.lock().vms.get(&vmid).cloned()
    }

    pub fn vms(&self) -> Vec<(u32, Vm)> {
        self.lock().vms.iter().map(|(id, vm)| (*id, vm.clone())).collect()
    }

    pub fn remove_vm(&self, vmid: u32) -> Option<Vm> {
        self.lock().vms.remove(&vmid)
    }

    /// Sets the power state; false if there is no such VM.
    pub fn set_vm_status(&self, vmid: u32, status: VmStatus) -> bool {
        match self.lock().vms.get_mut(&vmid) {
            Some(vm) => {
                vm.status = status;
                true
            }
            None => false,
        }
    }

    /// Copies `src` to `newid` (stopped, not a template, optionally renamed), like `qm clone`.
    pub fn clone_vm(&self, src: u32, newid: u32, name: Option<&str>) -> Result<(), String> {
        let mut state = self.lock();
        if state.vms.contains_key(&newid) {
            return Err(format!("unable to create VM {newid}: config file already exists"));
        }
        let mut vm = state.vms.get(&src).cloned().ok_or_else(|| {
            format!(
                "Configuration file 'nodes/{}/qemu-server/{src}.conf' does not exist",
                state.node
            )
        })?;
        vm.status = VmStatus::Stopped;
        vm.config.remove("template");
        let name = name
            .map(str::to_string)
            .unwrap_or_else(|| format!("Copy-of-VM-{}", vm.name()));
        vm.config.insert("name".into(), name);
        state.vms.insert(newid, vm);
        Ok(())
    }

    /// Sets config keys; an empty value deletes the key (as `delete=` does on PVE). False if
    /// there is no such VM.
    pub fn update_vm_config(&self, vmid: u32, changes: &BTreeMap<String, String>) -> bool {
        match self.lock().vms.get_mut(&vmid) {
            Some(vm) => {
                for (key, value) in changes {
                    if value.is_empty() {
                        vm.config.remove(key);
                    } else {
                        vm.config.insert(key.clone(), value.clone());
                    }
                }
                true
            }
            None => false,
        }
    }

    /// The VM's `/etc/pve/qemu-server/<vmid>.conf`: one `key: value` line per config key.
    pub fn vm_config_text(&self, vmid: u32) -> Option<String> {
        let state = self.lock();
        let vm = state.vms.get(&vmid)?;
        Some(vm.config.iter().map(|(k, v)| format!("{k}: {v}\n")).collect())
    }

    /// Replaces the VM's config with the parsed text, creating a stopped VM if there is none
    /// (writing a config file is how a VM comes into being on PVE). Blank lines and `#`
    /// comments are skipped; parsing stops at the first `[snapshot]` section.
    pub fn set_vm_config_text(&self, vmid: u32, text: &str) {
        let config: BTreeMap<String, String> = text
            .lines()
            .map(str::trim)
            .take_while(|line| !line.starts_with('['))
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let mut state = self.lock();
        match state.vms.get_mut(&vmid) {
            Some(vm) => vm.config = config,
            None => {
                state.vms.insert(
                    vmid,
                    Vm {
                        status: VmStatus::Stopped,
                        config,
                    },
                );
            }
        }
    }

    // ---- files ----

    pub fn put_file(&self, path: &str, contents: impl Into<Vec<u8>>) {
        self.lock().files.insert(path.to_string(), contents.into());
    }

    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        self.lock().files.get(path).cloned()
    }

    /// True if the file existed.
    pub fn remove_file(&self, path: &str) -> bool {
        self.lock().files.remove(path).is_some()
    }

    /// Paths of the files under `dir` (a prefix such as [`ISO_DIR`]), sorted.
    pub fn files_under(&self, dir: &str) -> Vec<String> {
        self.lock()
            .files
            .keys()
            .filter(|p| p.starts_with(dir))
            .cloned()
            .collect()
    }

    // ---- tasks ----

    /// Logs a running task and returns its UPID,
    /// `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:` with hex8 numbers.
    pub fn begin_task(&self, kind: &str, id: &str, user: &str) -> String {
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        let starttime = now_secs();
        let mut state = self.lock();
        let pstart = pid.wrapping_mul(7919) & 0x0fff_ffff;
        let upid = format!(
            "UPID:{}:{pid:08X}:{pstart:08X}:{starttime:08X}:{kind}:{id}:{user}:",
            state.node
        );
        let task = Task {
            upid: upid.clone(),
            kind: kind.to_string(),
            id: id.to_string(),
            user: user.to_string(),
            starttime,
            endtime: None,
            exitstatus: None,
        };
        state.tasks.insert(upid.clone(), task);
        upid
    }

    /// Marks the task stopped with `exitstatus` (`OK` or an error text).
    pub fn finish_task(&self, upid: &str, exitstatus: &str) {
        if let Some(task) = self.lock().tasks.get_mut(upid) {
            task.endtime = Some(now_secs());
            task.exitstatus = Some(exitstatus.to_string());
        }
    }

    pub fn task(&self, upid: &str) -> Option<Task> {
        self.lock().tasks.get(upid).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_text_round_trips_and_writing_one_creates_the_vm() {
        let host = Host::new("h1");
        host.insert_vm(100, Vm::new("tmpl").template());
        let text = host.vm_config_text(100).expect("vm 100");
        assert!(text.contains("name: tmpl\n"), "{text}");
        assert!(text.contains("template: 1\n"), "{text}");

        host.set_vm_config_text(200, "# note\nname: fresh\nmemory: 512\n\n[snap1]\nmemory: 1\n");
        let vm = host.vm(200).expect("vm 200 created");
        assert_eq!(vm.name(), "fresh");
        assert_eq!(vm.config.get("memory").map(String::as_str), Some("512"));
        assert_eq!(vm.status, VmStatus::Stopped);
    }

    #[test]
    fn clone_copies_config_and_refuses_an_existing_id() {
        let host = Host::new("h1");
        host.insert_vm(100, Vm::new("tmpl").template());
        host.clone_vm(100, 101, Some("bot-1")).expect("clone");
        let vm = host.vm(101).expect("vm 101");
        assert_eq!(vm.name(), "bot-1");
        assert!(!vm.is_template());
        assert!(host.clone_vm(100, 101, None).is_err());
        assert!(host.clone_vm(999, 102, None).is_err());
    }

    #[test]
    fn upids_look_like_proxmox_ones() {
        let host = Host::new("pve1");
        let upid = host.begin_task("qmstart", "101", "root@pam");
        let parts: Vec<&str> = upid.split(':').collect();
        assert_eq!(parts.len(), 9, "{upid}");
        assert_eq!(&parts[..2], &["UPID", "pve1"]);
        assert!(
            parts[2..5]
                .iter()
                .all(|p| p.len() == 8 && u64::from_str_radix(p, 16).is_ok()),
            "{upid}"
        );
        assert_eq!(&parts[5..], &["qmstart", "101", "root@pam", ""]);
        assert_eq!(host.task(&upid).and_then(|t| t.exitstatus), None);
        host.finish_task(&upid, "OK");
        assert_eq!(host.task(&upid).and_then(|t| t.exitstatus).as_deref(), Some("OK"));
    }
}
