//! `proxmox.ssh-*` and ISO commands served over SSH (agent.md §10.3, §10.4), with the
//! reference's quirks fixed: ISO names and storages are checked, file contents travel on stdin,
//! the work directory goes on failure too, and `allowlisted` tells the truth.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use botmox_contract::commands::{Command, Params, Payload};
use botmox_contract::params::{Common, CreateProvisionIso, SecretOr, SshVm, Text, TimeoutName};
use rand::distributions::{Alphanumeric, DistString};
use serde_json::{json, Value};

use super::{need, ExecContext, ExecError};
use crate::config::Target;
use crate::ssh::{self, allowlisted, clamp_timeout, SshParams};

const STATUS_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(15);
const WRITE_TIMEOUT: Duration = Duration::from_secs(20);
const EXEC_TIMEOUT: Duration = Duration::from_secs(30);
const ISO_TIMEOUT: Duration = Duration::from_secs(30);
const REMOVE_ISO_TIMEOUT: Duration = Duration::from_secs(10);
const PROBE_MARKER: &str = "BOTMOX_SSH_OK";

/// The timeouts the SSH commands read, in order (agent.md §10.3).
const SSH_TIMEOUTS: [TimeoutName; 3] = [TimeoutName::Camel, TimeoutName::Short, TimeoutName::Snake];

/// Runs one SSH-backed command from its JSON payload.
pub async fn execute(
    ctx: &ExecContext,
    target: &Target,
    command: Command,
    payload: &Value,
) -> Result<Value, ExecError> {
    run(ctx, target, &super::typed(command, payload)?).await
}

/// Runs one SSH-backed command (the catalogue's [`Executor::Ssh`](botmox_contract::commands::Executor)).
pub(super) async fn run(ctx: &ExecContext, target: &Target, payload: &Payload) -> Result<Value, ExecError> {
    let command = payload.command();
    let action = command.action();
    let params = SshParams::resolve(target, &payload.common);
    let timeout_ms = payload.common.timeout_of(&SSH_TIMEOUTS);
    let run = |command: String, stdin: Option<Vec<u8>>, default: Duration| {
        let params = params.clone();
        async move {
            let timeout = clamp_timeout(timeout_ms, default);
            ssh::run(&params, &ctx.known_hosts, &command, stdin.as_deref(), timeout).await
        }
    };
    let vmid = |vm: &SshVm| {
        vm.vmid()
            .ok_or_else(|| ExecError::plain(format!("vmid required for proxmox.{action}")))
    };
    match &payload.params {
        Params::SshStatus(_) | Params::SshTest(_) => {
            Ok(probe(&params, run(PROBE_COMMAND.into(), None, STATUS_TIMEOUT).await))
        }
        Params::SshBootstrap(_) => {
            let mut result = probe(&params, run(PROBE_COMMAND.into(), None, STATUS_TIMEOUT).await);
            // Still a placeholder (nothing is installed); it reports whether the probe passed.
            let validated = result["code"] == "OK";
            result["bootstrap"] = json!(if validated { "validated" } else { "failed" });
            Ok(result)
        }
        Params::SshReadConfig(vm) => {
            let vmid = vmid(vm)?;
            let out = run(format!("cat {}", config_path(vmid)), None, READ_TIMEOUT).await?;
            match out.exit_code {
                0 => Ok(json!({ "config": out.stdout })),
                _ => Err(ExecError::new("SSH_READ_FAILED", failure_text(&out))),
            }
        }
        Params::SshWriteConfig(write) => {
            let vmid = vmid(&write.vm())?;
            let content = super::revealed(need(&write.content, "content", command)?, "content")?;
            if content.trim().is_empty() {
                return Err(ExecError::plain(format!("content required for proxmox.{action}")));
            }
            let out = run(write_config_command(vmid, content), None, WRITE_TIMEOUT).await?;
            match out.exit_code {
                0 => Ok(json!({ "written": true })),
                _ => Err(ExecError::new("SSH_WRITE_FAILED", failure_text(&out))),
            }
        }
        Params::SshExec(exec) => {
            let command = super::revealed(need(&exec.command, "command", command)?, "command")?.trim();
            if command.is_empty() {
                return Err(ExecError::new(
                    "BAD_REQUEST",
                    "command is required for proxmox.ssh-exec",
                ));
            }
            // The server strips `allowUnsafe` unless the caller may run arbitrary commands.
            let unsafe_ok = payload.common.allows_unsafe();
            let normalised = allowlisted(command);
            let to_run = match (&normalised, unsafe_ok) {
                (Some(allowed), _) => allowed.clone(),
                (None, true) => command.to_string(),
                (None, false) => return Err(forbidden(command)),
            };
            let out = run(to_run, None, EXEC_TIMEOUT).await?;
            Ok(json!({
                "stdout": out.stdout,
                "stderr": out.stderr,
                "exitCode": out.exit_code,
                "allowlisted": normalised.is_some(),
            }))
        }
        Params::CreateProvisionIso(request) => {
            let iso = ProvisionIso::from_params(request)?;
            let out = run("sh -s".into(), Some(iso.script().into_bytes()), ISO_TIMEOUT).await;
            match out {
                Ok(out) if out.exit_code == 0 => Ok(json!({
                    "isoPath": format!("{}:iso/{}", iso.storage, iso.name),
                    "isoName": iso.name,
                    "created": true,
                })),
                Ok(out) => Err(ExecError::new("ISO_CREATE_FAILED", failure_text(&out))),
                Err(err) => Err(err),
            }
        }
        _ => Err(ExecError::plain(format!("{command} does not run over SSH"))),
    }
}

/// Best-effort removal of an uploaded ISO (`detach-cdrom` with `deleteIso`): `volume` is
/// `<storage>:iso/<file>`; anything else, or any name that would need quoting, is left alone.
pub async fn remove_iso(ctx: &ExecContext, target: &Target, payload: &Value, volume: &str) {
    if let Ok(overrides) = Common::read(payload) {
        remove_iso_via(ctx, target, &overrides, volume).await;
    }
}

/// [`remove_iso`] with the SSH overrides of an already typed payload.
pub(super) async fn remove_iso_via(ctx: &ExecContext, target: &Target, overrides: &Common, volume: &str) {
    let Some((storage, file)) = volume.split_once(":iso/") else {
        return;
    };
    if !is_storage_id(storage) || !is_iso_name(file) {
        return;
    }
    let params = SshParams::resolve(target, overrides);
    let command = format!("rm -f {}/{file}", iso_dir(storage));
    // Errors are ignored by design: the CD-ROM is already detached, the file is only tidying.
    let _ = ssh::run(&params, &ctx.known_hosts, &command, None, REMOVE_ISO_TIMEOUT).await;
}

const PROBE_COMMAND: &str = "echo BOTMOX_SSH_OK";

/// The `ssh-status` object; it never fails, the outcome is in `connected` and `code`.
fn probe(params: &SshParams, outcome: Result<ssh::Output, ExecError>) -> Value {
    let mut result = json!({
        "configured": params.is_configured(),
        "host": params.host,
        "port": params.port,
        "username": params.username,
        "mode": params.mode(),
    });
    let fields = match outcome {
        Ok(out) => {
            let ok = out.exit_code == 0 && out.stdout.contains(PROBE_MARKER);
            json!({
                "connected": true,
                "code": if ok { "OK" } else { "SSH_EXEC_ERROR" },
                "stdout": out.stdout,
                "stderr": out.stderr,
            })
        }
        Err(err) => json!({
            "connected": false,
            "code": err.code.unwrap_or("SSH_EXEC_ERROR"),
            "message": err.message,
        }),
    };
    if let (Some(result), Value::Object(fields)) = (result.as_object_mut(), fields) {
        result.extend(fields);
    }
    result
}

fn forbidden(command: &str) -> ExecError {
    ExecError::new(
        "SSH_COMMAND_FORBIDDEN",
        format!(
            "`{command}` is not allowlisted; allowed: qm status|start|stop|shutdown|reset|suspend|resume <vmid>, \
             qm sendkey <vmid> <key>, cat /etc/pve/qemu-server/<vmid>.conf, pvesh get /nodes/<node>/qemu, \
             pvesh get /cluster/resources"
        ),
    )
}

/// stderr, else stdout, else the exit code: a failure always says something.
fn failure_text(out: &ssh::Output) -> String {
    [&out.stderr, &out.stdout]
        .into_iter()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("exit code {}", out.exit_code))
}

fn config_path(vmid: u64) -> String {
    format!("/etc/pve/qemu-server/{vmid}.conf")
}

/// `cat > <conf> <<'TERM'`: a quoted terminator, so nothing in the content is expanded, that
/// does not occur in the content; the content ends with a newline.
fn write_config_command(vmid: u64, content: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let random = Alphanumeric.sample_string(&mut rand::thread_rng(), 6);
    let terminator = unique_terminator(format!("BOTMOX_VM_CONFIG_{}_{random}", base36(millis)), content);
    let newline = if content.ends_with('\n') { "" } else { "\n" };
    format!(
        "cat > {} <<'{terminator}'\n{content}{newline}{terminator}\n",
        config_path(vmid)
    )
}

fn unique_terminator(mut terminator: String, content: &str) -> String {
    while content.contains(&terminator) {
        terminator.push_str("_X");
    }
    terminator
}

fn base36(mut n: u128) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// A Proxmox storage id: a letter, then letters, digits, `.`, `_` or `-`.
fn is_storage_id(s: &str) -> bool {
    s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// An ISO file name that needs no quoting: `[A-Za-z0-9._-]`, not hidden, ending in `.iso`.
fn is_iso_name(s: &str) -> bool {
    s.len() <= 200
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.to_ascii_lowercase().ends_with(".iso")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Where a storage keeps its ISO images.
fn iso_dir(storage: &str) -> String {
    match storage {
        "local" => "/var/lib/vz/template/iso".to_string(),
        other => format!("/mnt/pve/{other}/template/iso"),
    }
}

/// A checked `create-provision-iso` request.
struct ProvisionIso {
    vmid: u64,
    name: String,
    storage: String,
    /// Sanitised file name → contents.
    files: Vec<(String, Vec<u8>)>,
}

impl ProvisionIso {
    fn from_params(request: &CreateProvisionIso) -> Result<Self, ExecError> {
        const ACTION: &str = "create-provision-iso";
        let vmid = request
            .vmid()
            .ok_or_else(|| ExecError::plain(format!("vmid required for proxmox.{ACTION}")))?;
        let text = |t: &Option<Text>| t.as_ref().and_then(Text::non_blank).map(str::to_owned);
        let name = text(&request.iso_name).unwrap_or_else(|| format!("vm-{vmid}-provision.iso"));
        if !is_iso_name(&name) {
            return Err(ExecError::new(
                "BAD_REQUEST",
                format!("isoName {name:?} must be [A-Za-z0-9._-], start with a letter or digit and end in .iso"),
            ));
        }
        let storage = text(&request.iso_storage).unwrap_or_else(|| "local".into());
        if !is_storage_id(&storage) {
            return Err(ExecError::new(
                "BAD_REQUEST",
                format!("isoStorage {storage:?} is not a storage id"),
            ));
        }
        Ok(ProvisionIso {
            vmid,
            name,
            storage,
            files: decode_files(&request.files)?,
        })
    }

    /// The shell script fed to `sh -s` on the host: contents arrive as base64 heredocs on
    /// stdin (no argument-length limit, nothing on a command line), the work directory is
    /// private and removed on every exit, and a missing ISO tool is said on stderr.
    fn script(&self) -> String {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut script = format!(
            "set -eu\n\
             work=$(mktemp -d \"${{TMPDIR:-/tmp}}/botmox-provision-{vmid}-{millis}.XXXXXX\")\n\
             trap 'rm -rf \"$work\"' EXIT\n\
             mkdir \"$work/files\"\n",
            vmid = self.vmid
        );
        for (name, contents) in &self.files {
            // `_` is not a base64 character, so the terminator cannot occur in the body.
            script.push_str(&format!("base64 -d > \"$work/files/{name}\" <<'BOTMOX_FILE_END'\n"));
            let encoded = base64::engine::general_purpose::STANDARD.encode(contents);
            for line in encoded.as_bytes().chunks(76) {
                script.push_str(&String::from_utf8_lossy(line));
                script.push('\n');
            }
            script.push_str("BOTMOX_FILE_END\n");
        }
        let dir = iso_dir(&self.storage);
        script.push_str(&format!(
            "if command -v genisoimage >/dev/null 2>&1; then tool=genisoimage; \
             elif command -v mkisofs >/dev/null 2>&1; then tool=mkisofs; \
             else echo 'no ISO tool: install genisoimage (or mkisofs) on the Proxmox host' >&2; exit 127; fi\n\
             \"$tool\" -J -R -V PROVISION -o \"$work/image.iso\" \"$work/files\"\n\
             mkdir -p '{dir}'\n\
             mv -f \"$work/image.iso\" '{dir}/{name}'\n",
            name = self.name
        ));
        script
    }
}

fn decode_files(files: &BTreeMap<String, SecretOr<String>>) -> Result<Vec<(String, Vec<u8>)>, ExecError> {
    let mut seen = BTreeSet::new();
    files
        .iter()
        .map(|(raw_name, value)| {
            let name = sanitise_file_name(raw_name);
            if !seen.insert(name.clone()) {
                return Err(ExecError::new(
                    "BAD_REQUEST",
                    format!("files: {raw_name:?} becomes {name:?}, which another file already uses"),
                ));
            }
            let value = super::revealed(value, &format!("files.{raw_name}"))?;
            let encoded: String = value.split_ascii_whitespace().collect();
            let contents = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| ExecError::new("BAD_REQUEST", format!("files.{raw_name} is not base64: {e}")))?;
            Ok((name, contents))
        })
        .collect()
}

/// Keeps `[A-Za-z0-9._-]`, turning anything else into `_`; a name of only dots (`.`, `..`)
/// becomes underscores so it cannot name a directory.
fn sanitise_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        "_".repeat(cleaned.len().max(1))
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `create-provision-iso` payload read and checked the way the executor does.
    fn provision(payload: Value) -> Result<ProvisionIso, ExecError> {
        match super::super::typed(Command::CreateProvisionIso, &payload)?.params {
            Params::CreateProvisionIso(request) => ProvisionIso::from_params(&request),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn heredoc_terminator_avoids_the_content_and_a_newline_is_added() {
        let command = write_config_command(100, "name: a\nBOTMOX_VM_CONFIG_");
        let terminator = command.lines().last().expect("terminator line");
        assert!(terminator.starts_with("BOTMOX_VM_CONFIG_"), "{command}");
        assert!(command.starts_with(&format!("cat > /etc/pve/qemu-server/100.conf <<'{terminator}'\n")));
        assert!(
            command.ends_with(&format!("BOTMOX_VM_CONFIG_\n{terminator}\n")),
            "{command}"
        );

        assert_eq!(unique_terminator("T".into(), "a\nT\nT_X\n"), "T_X_X");
        assert_eq!(unique_terminator("T".into(), "plain"), "T");
    }

    #[test]
    fn names_are_checked_and_file_names_sanitised() {
        assert!(is_iso_name("vm-100-provision.iso"));
        for bad in [
            "x.img",
            ".hidden.iso",
            "a b.iso",
            "a;rm -rf /.iso",
            "../x.iso",
            "-x.iso",
        ] {
            assert!(!is_iso_name(bad), "{bad}");
        }
        assert!(is_storage_id("nfs-iso_1"));
        assert!(!is_storage_id("local;reboot") && !is_storage_id("../x") && !is_storage_id(""));
        assert_eq!(sanitise_file_name("user data/ü.txt"), "user_data__.txt");
        assert_eq!(sanitise_file_name(".."), "__");
        assert_eq!(base36(0), "0");
        assert_eq!(base36(36 * 36 + 35), "10z");
    }

    #[test]
    fn provision_requests_are_validated() {
        let err = |payload: Value| provision(payload).err().map(|e| e.to_string());
        assert_eq!(
            err(json!({"files": {"a": "YQ=="}})).as_deref(),
            Some("BAD_REQUEST: vmid required for proxmox.create-provision-iso")
        );
        assert!(err(json!({"vmid": 1, "files": {}})).is_some_and(|e| e.starts_with("BAD_REQUEST: files required")));
        assert!(err(json!({"vmid": 1, "files": {"a": "%%"}})).is_some_and(|e| e.starts_with("BAD_REQUEST")));
        assert!(err(json!({"vmid": 1, "files": {"a b": "", "a_b": ""}})).is_some_and(|e| e.starts_with("BAD_REQUEST")));
        assert!(err(json!({"vmid": 1, "files": {"a": ""}, "isoStorage": "x y"}))
            .is_some_and(|e| e.starts_with("BAD_REQUEST")));
        let iso = provision(json!({"vmid": "7", "files": {"meta data": "aGk="}})).expect("valid");
        assert_eq!(
            (iso.name.as_str(), iso.storage.as_str()),
            ("vm-7-provision.iso", "local")
        );
        assert_eq!(iso.files, vec![("meta_data".to_string(), b"hi".to_vec())]);
        let script = iso.script();
        assert!(script.contains("base64 -d > \"$work/files/meta_data\" <<'BOTMOX_FILE_END'\naGk=\nBOTMOX_FILE_END\n"));
        assert!(script.contains("mv -f \"$work/image.iso\" '/var/lib/vz/template/iso/vm-7-provision.iso'\n"));
    }

    /// The generated shell runs in a real POSIX `sh` (with a stand-in ISO tool and the ISO
    /// directory moved into a temp dir), so quoting, heredocs and the cleanup trap are checked
    /// for real, not only against the double's interpreter.
    #[cfg(unix)]
    mod real_shell {
        use super::*;
        use std::io::Write as _;
        use std::os::unix::fs::PermissionsExt as _;
        use std::path::{Path, PathBuf};
        use std::process::{Command, Stdio};

        const FAKE_TOOL: &str = "#!/bin/sh\n\
            printf '%s\\n' \"$*\" > \"$FAKE_ISO_ARGS\"\n\
            while [ \"$#\" -gt 1 ]; do if [ \"$1\" = -o ]; then out=$2; fi; shift; done\n\
            ls \"$1\" > \"$out\"\n\
            cat \"$1\"/* >> \"$out\"\n";

        /// A directory holding links to just the tools the script needs (no ISO tool).
        fn bare_path(root: &Path) -> PathBuf {
            let bin = root.join("bin");
            std::fs::create_dir_all(&bin).expect("bin dir");
            let path = std::env::var_os("PATH").unwrap_or_default();
            for tool in ["mktemp", "base64", "mkdir", "rm", "mv", "cat", "ls"] {
                let found = std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| p.exists());
                std::os::unix::fs::symlink(found.expect(tool), bin.join(tool)).expect("link");
            }
            bin
        }

        fn sh(script: &str, bin: &Path, root: &Path) -> std::process::Output {
            let mut child = Command::new("/bin/sh")
                .arg("-s")
                .env_clear()
                .env("PATH", bin)
                .env("TMPDIR", root.join("tmp"))
                .env("FAKE_ISO_ARGS", root.join("args"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("sh");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(script.as_bytes())
                .expect("script");
            child.wait_with_output().expect("sh output")
        }

        fn request(root: &Path) -> (ProvisionIso, String) {
            let payload = json!({"vmid": 7, "files": {"user-data": "I2Nsb3VkLWNvbmZpZwo=", "a b": "JCh4KQo="}});
            let iso = provision(payload).expect("valid");
            let iso_dir = root.join("iso");
            let script = iso
                .script()
                .replace("/var/lib/vz/template/iso", &iso_dir.display().to_string());
            std::fs::create_dir_all(root.join("tmp")).expect("tmp");
            (iso, script)
        }

        fn leftovers(root: &Path) -> usize {
            std::fs::read_dir(root.join("tmp")).map_or(0, |d| d.count())
        }

        #[test]
        fn the_iso_script_builds_moves_and_cleans_up() {
            let root = tempfile::tempdir().expect("temp dir");
            let bin = bare_path(root.path());
            let tool = bin.join("genisoimage");
            std::fs::write(&tool, FAKE_TOOL).expect("fake tool");
            std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            let (iso, script) = request(root.path());

            let out = sh(&script, &bin, root.path());
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let image = std::fs::read_to_string(root.path().join("iso").join(&iso.name)).expect("the ISO");
            assert_eq!(image, "a_b\nuser-data\n$(x)\n#cloud-config\n");
            let args = std::fs::read_to_string(root.path().join("args")).expect("tool args");
            assert!(args.starts_with("-J -R -V PROVISION -o "), "{args}");
            assert_eq!(leftovers(root.path()), 0, "the work dir is removed");
        }

        #[test]
        fn without_an_iso_tool_the_script_says_so_and_cleans_up() {
            let root = tempfile::tempdir().expect("temp dir");
            let bin = bare_path(root.path());
            let (iso, script) = request(root.path());
            let out = sh(&script, &bin, root.path());
            assert_eq!(out.status.code(), Some(127));
            assert!(String::from_utf8_lossy(&out.stderr).contains("no ISO tool"), "{out:?}");
            assert!(!root.path().join("iso").join(&iso.name).exists());
            assert_eq!(leftovers(root.path()), 0, "the work dir is removed on failure too");
        }

        #[test]
        fn the_config_heredoc_writes_the_content_verbatim() {
            let root = tempfile::tempdir().expect("temp dir");
            let file = root.path().join("100.conf");
            let content = "name: $HOME `reboot` $(reboot)\nEOF\n'quoted' \\ end";
            let command = write_config_command(100, content)
                .replace("/etc/pve/qemu-server/100.conf", &file.display().to_string());
            let out = Command::new("/bin/sh").arg("-c").arg(&command).output().expect("sh");
            assert!(out.status.success(), "{out:?}");
            assert_eq!(std::fs::read_to_string(&file).expect("written"), format!("{content}\n"));
        }
    }
}
