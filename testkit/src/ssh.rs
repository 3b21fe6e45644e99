//! The SSH double: an in-process russh server on 127.0.0.1 acting as the Proxmox host's shell.
//!
//! It understands exactly the commands the agent sends (agent.md §10.3, §10.4, §13) and acts
//! on the shared [`Host`]: the probe `echo`, `cat` of a VM config, the config heredoc, the
//! provisioning-ISO script fed to `sh -s`, `rm -f` of an ISO, and the allowlisted `qm` and
//! `pvesh get` commands. Anything else fails like a shell would (`sh: 1: x: not found`, 127).
//! Scripts run as if under `set -e`: the first failing line ends them.

use std::collections::{BTreeMap, HashMap};
use std::str::Lines;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use rand::distributions::{Alphanumeric, DistString};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::ssh_key::LineEnding;
use russh::keys::{HashAlg, PrivateKey, PublicKey};
use russh::server::{self, Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::host::{Host, VmStatus, ISO_DIR, QEMU_CONFIG_DIR};

/// How the double is set up. `Default` gives user `root` with a random password and
/// `genisoimage` installed.
#[derive(Clone, Debug)]
pub struct SshOptions {
    pub username: String,
    pub password: String,
    /// The ISO tool found by `command -v`: `genisoimage`, `mkisofs`, or none.
    pub iso_tool: Option<String>,
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            username: "root".into(),
            password: Alphanumeric.sample_string(&mut rand::thread_rng(), 16),
            iso_tool: Some("genisoimage".into()),
        }
    }
}

/// One authentication attempt, as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthAttempt {
    pub user: String,
    /// `password` or `publickey`.
    pub method: &'static str,
    /// The password offered, for `password` attempts.
    pub password: Option<String>,
    pub accepted: bool,
}

/// One command the client asked to run, with what it wrote to stdin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecRecord {
    pub command: String,
    pub stdin: Vec<u8>,
}

/// A running double. Dropping it stops accepting connections.
pub struct SshDouble {
    pub port: u16,
    /// `SHA256:…` of the current host key.
    pub host_key_fingerprint: String,
    pub username: String,
    pub password: String,
    /// An unencrypted OpenSSH private key the double accepts for `username`.
    pub client_private_key: String,
    shared: Arc<Shared>,
    accept_loop: JoinHandle<()>,
}

struct Shared {
    host: Host,
    username: String,
    password: String,
    authorized_key: PublicKey,
    /// Swapped by [`SshDouble::rotate_host_key`]; each connection takes the current one.
    config: Mutex<Arc<server::Config>>,
    iso_tool: Mutex<Option<String>>,
    hanging: AtomicBool,
    execs: Mutex<Vec<ExecRecord>>,
    auths: Mutex<Vec<AuthAttempt>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn random_key() -> PrivateKey {
    PrivateKey::from(Ed25519Keypair::from_seed(&rand::random()))
}

fn server_config(host_key: PrivateKey) -> Arc<server::Config> {
    Arc::new(server::Config {
        keys: vec![host_key],
        methods: MethodSet::from(&[MethodKind::Password, MethodKind::PublicKey][..]),
        // Constant-time rejection protects real servers; here it would only slow tests down.
        auth_rejection_time: Duration::ZERO,
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(Duration::from_secs(120)),
        ..Default::default()
    })
}

impl SshDouble {
    /// Listens on 127.0.0.1 (a free port) with a fresh Ed25519 host key.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start(host: Host, options: SshOptions) -> SshDouble {
        let host_key = random_key();
        let host_key_fingerprint = host_key.public_key().fingerprint(HashAlg::Sha256).to_string();
        let client_key = random_key();
        let client_private_key = client_key
            .to_openssh(LineEnding::LF)
            .map(|k| k.to_string())
            .expect("an Ed25519 key encodes");
        let shared = Arc::new(Shared {
            host,
            username: options.username.clone(),
            password: options.password.clone(),
            authorized_key: client_key.public_key().clone(),
            config: Mutex::new(server_config(host_key)),
            iso_tool: Mutex::new(options.iso_tool),
            hanging: AtomicBool::new(false),
            execs: Mutex::new(Vec::new()),
            auths: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("bound address").port();
        let accept_loop = tokio::spawn(accept_loop(listener, shared.clone()));
        SshDouble {
            port,
            host_key_fingerprint,
            username: options.username,
            password: options.password,
            client_private_key,
            shared,
            accept_loop,
        }
    }

    /// Switches to a new host key on the same port, as a reinstalled host would; returns (and
    /// stores) its fingerprint. Connections already open keep the old key.
    pub fn rotate_host_key(&mut self) -> String {
        let key = random_key();
        self.host_key_fingerprint = key.public_key().fingerprint(HashAlg::Sha256).to_string();
        *lock(&self.shared.config) = server_config(key);
        self.host_key_fingerprint.clone()
    }

    /// While set, commands are accepted but never answered (to test timeouts).
    pub fn set_hanging(&self, hanging: bool) {
        self.shared.hanging.store(hanging, Ordering::SeqCst);
    }

    /// Which ISO tool `command -v` finds from now on.
    pub fn set_iso_tool(&self, tool: Option<&str>) {
        *lock(&self.shared.iso_tool) = tool.map(str::to_string);
    }

    /// Every command requested so far, oldest first.
    pub fn execs(&self) -> Vec<ExecRecord> {
        lock(&self.shared.execs).clone()
    }

    /// Every authentication attempt so far, oldest first.
    pub fn auth_attempts(&self) -> Vec<AuthAttempt> {
        lock(&self.shared.auths).clone()
    }
}

impl Drop for SshDouble {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        let config = lock(&shared.config).clone();
        let handler = Connection {
            shared: shared.clone(),
            stdin_for: HashMap::new(),
        };
        tokio::spawn(async move {
            if let Ok(session) = server::run_stream(config, stream, handler).await {
                let _ = session.await;
            }
        });
    }
}

/// One client connection.
struct Connection {
    shared: Arc<Shared>,
    /// `sh -s` channels still receiving their script on stdin.
    stdin_for: HashMap<ChannelId, Vec<u8>>,
}

impl Connection {
    fn record_auth(&self, user: &str, method: &'static str, password: Option<&str>, accepted: bool) -> Auth {
        lock(&self.shared.auths).push(AuthAttempt {
            user: user.to_string(),
            method,
            password: password.map(str::to_string),
            accepted,
        });
        if accepted {
            Auth::Accept
        } else {
            Auth::reject()
        }
    }

    fn finish(
        &self,
        channel: ChannelId,
        command: String,
        stdin: Vec<u8>,
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let script = if stdin.is_empty() {
            command.clone()
        } else {
            String::from_utf8_lossy(&stdin).into_owned()
        };
        lock(&self.shared.execs).push(ExecRecord { command, stdin });
        let out = Shell::new(&self.shared).run(&script);
        if !out.stdout.is_empty() {
            session.data(channel, out.stdout)?;
        }
        if !out.stderr.is_empty() {
            session.extended_data(channel, 1, out.stderr)?;
        }
        session.exit_status_request(channel, out.code)?;
        session.eof(channel)?;
        session.close(channel)
    }
}

impl server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let ok = user == self.shared.username && password == self.shared.password;
        Ok(self.record_auth(user, "password", Some(password), ok))
    }

    async fn auth_publickey(&mut self, user: &str, key: server::VerifiedPublicKey<'_>) -> Result<Auth, Self::Error> {
        let ok = user == self.shared.username && key.public_key.key_data() == self.shared.authorized_key.key_data();
        Ok(self.record_auth(user, "publickey", None, ok))
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        let command = String::from_utf8_lossy(data).into_owned();
        if self.shared.hanging.load(Ordering::SeqCst) {
            lock(&self.shared.execs).push(ExecRecord {
                command,
                stdin: Vec::new(),
            });
            return Ok(());
        }
        if command.trim() == "sh -s" {
            // The script arrives on stdin; it runs at EOF.
            self.stdin_for.insert(channel, Vec::new());
            return Ok(());
        }
        self.finish(channel, command, Vec::new(), session)
    }

    async fn data(&mut self, channel: ChannelId, data: &[u8], _session: &mut Session) -> Result<(), Self::Error> {
        if let Some(stdin) = self.stdin_for.get_mut(&channel) {
            stdin.extend_from_slice(data);
        }
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        match self.stdin_for.remove(&channel) {
            Some(stdin) => self.finish(channel, "sh -s".into(), stdin, session),
            None => Ok(()),
        }
    }
}

/// The first line of a fake ISO image built by the double's `genisoimage`/`mkisofs`.
pub const FAKE_ISO_MAGIC: &str = "BOTMOX-FAKE-ISO";

/// The volume label and files of an image the double built, or `None` if `image` is not one.
pub fn fake_iso_contents(image: &[u8]) -> Option<(String, BTreeMap<String, Vec<u8>>)> {
    let text = std::str::from_utf8(image).ok()?;
    let mut lines = text.lines();
    if lines.next()? != FAKE_ISO_MAGIC {
        return None;
    }
    let volume = lines.next()?.strip_prefix("volume: ")?.to_string();
    let mut files = BTreeMap::new();
    for line in lines {
        let (name, encoded) = line.strip_prefix("file: ")?.split_once(' ')?;
        files.insert(
            name.to_string(),
            base64::engine::general_purpose::STANDARD.decode(encoded).ok()?,
        );
    }
    Some((volume, files))
}

/// What one command or script produced.
#[derive(Default)]
struct Out {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    code: u32,
}

impl Out {
    fn ok(stdout: impl Into<Vec<u8>>) -> Out {
        Out {
            stdout: stdout.into(),
            ..Default::default()
        }
    }

    fn fail(code: u32, stderr: impl Into<String>) -> Out {
        let mut stderr = stderr.into();
        stderr.push('\n');
        Out {
            stderr: stderr.into_bytes(),
            code,
            ..Default::default()
        }
    }
}

/// A word of a command line after quote removal; operators are unquoted `>`, `<<`, `>&2`, ….
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Op(String),
}

/// Just enough of `sh` for the agent's commands: variables, quotes, one `trap … EXIT`, output
/// redirection, quoted heredocs, `$(…)` in an assignment and a one-line `if` chain.
struct Shell<'a> {
    shared: &'a Shared,
    vars: HashMap<String, String>,
    trap: Option<String>,
    exit: Option<u32>,
    out: Out,
}

impl<'a> Shell<'a> {
    fn new(shared: &'a Shared) -> Self {
        Shell {
            shared,
            vars: HashMap::new(),
            trap: None,
            exit: None,
            out: Out::default(),
        }
    }

    fn host(&self) -> &Host {
        &self.shared.host
    }

    fn run(mut self, script: &str) -> Out {
        let mut lines = script.lines();
        while let Some(line) = lines.next() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let code = self.line(line, &mut lines);
            if let Some(code) = self.exit.or((code != 0).then_some(code)) {
                self.out.code = code;
                break;
            }
        }
        if let Some(trap) = self.trap.take() {
            self.line(&trap, &mut "".lines());
        }
        self.out
    }

    /// Runs one line (reading a heredoc body from `rest`) and returns its exit code.
    fn line(&mut self, line: &str, rest: &mut Lines) -> u32 {
        if line.starts_with("if ") {
            return self.if_chain(line);
        }
        if let Some((name, inner)) = line.split_once("=$(").filter(|(n, _)| is_name(n)) {
            let Some(inner) = inner.strip_suffix(')') else {
                return self.syntax_error(line);
            };
            let mut shell = Shell::new(self.shared);
            shell.vars = self.vars.clone();
            let out = shell.simple(inner, rest);
            self.out.stderr.extend(out.stderr);
            self.vars
                .insert(name.into(), String::from_utf8_lossy(&out.stdout).trim_end().to_string());
            return out.code;
        }
        let out = self.simple(line, rest);
        self.out.stdout.extend(out.stdout);
        self.out.stderr.extend(out.stderr);
        out.code
    }

    fn syntax_error(&mut self, line: &str) -> u32 {
        self.out
            .stderr
            .extend(format!("sh: 1: Syntax error: {line}\n").into_bytes());
        2
    }

    /// `if A; then B; elif C; then D; else E; F; fi` on one line, as the ISO script has it.
    fn if_chain(&mut self, line: &str) -> u32 {
        let (mut taken, mut running, mut code) = (false, false, 0);
        for segment in line.split("; ") {
            let (keyword, body) = segment.split_once(' ').unwrap_or((segment, ""));
            match keyword {
                "if" | "elif" => {
                    running = !taken && self.quiet(body) == 0;
                    taken |= running;
                }
                "then" if running => code = self.line(body, &mut "".lines()),
                "then" => {}
                "else" => {
                    running = !taken;
                    taken = true;
                    if running {
                        code = self.line(body, &mut "".lines());
                    }
                }
                "fi" => break,
                _ if running => code = self.line(segment, &mut "".lines()),
                _ => {}
            }
            if self.exit.is_some() {
                break;
            }
        }
        code
    }

    /// Runs a condition, keeping only its exit code.
    fn quiet(&mut self, command: &str) -> u32 {
        self.simple(command, &mut "".lines()).code
    }

    fn simple(&mut self, line: &str, rest: &mut Lines) -> Out {
        let Some(tokens) = self.tokens(line) else {
            return Out::fail(2, "sh: 1: Syntax error: Unterminated quoted string");
        };
        let mut argv = Vec::new();
        let (mut redirect, mut to_stderr, mut discard, mut heredoc) = (None, false, false, None);
        let mut tokens = tokens.into_iter();
        while let Some(token) = tokens.next() {
            match token {
                Token::Word(w) => argv.push(w),
                Token::Op(op) => match op.as_str() {
                    ">" => match tokens.next() {
                        Some(Token::Word(path)) if path == "/dev/null" => discard = true,
                        Some(Token::Word(path)) => redirect = Some(path),
                        _ => return Out::fail(2, "sh: 1: Syntax error: redirection unexpected"),
                    },
                    ">&2" => to_stderr = true,
                    "2>&1" => {}
                    "<<" => match tokens.next() {
                        Some(Token::Word(end)) => heredoc = Some(read_heredoc(rest, &end)),
                        _ => return Out::fail(2, "sh: 1: Syntax error: heredoc unexpected"),
                    },
                    _ => return Out::fail(2, format!("sh: 1: Syntax error: {op} unexpected")),
                },
            }
        }
        let mut out = self.command(&argv, heredoc.as_deref());
        if let Some(path) = redirect {
            self.write_file(&path, std::mem::take(&mut out.stdout));
        } else if to_stderr {
            out.stderr.append(&mut out.stdout);
        } else if discard {
            out.stdout.clear();
        }
        out
    }

    /// Splits a line into words and operators, removing quotes and expanding `$name`,
    /// `${name}` and `${name:-default}` outside single quotes. `None` if a quote is unclosed.
    fn tokens(&self, line: &str) -> Option<Vec<Token>> {
        let mut tokens = Vec::new();
        let mut chars = line.chars().peekable();
        loop {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            let Some(&first) = chars.peek() else {
                return Some(tokens);
            };
            if first == '>' || first == '<' {
                let op: String = std::iter::from_fn(|| chars.next_if(|c| "<>&2".contains(*c))).collect();
                tokens.push(Token::Op(op));
                continue;
            }
            if chars.clone().take(4).eq("2>&1".chars()) {
                chars.by_ref().take(4).for_each(drop);
                tokens.push(Token::Op("2>&1".into()));
                continue;
            }
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                match c {
                    c if c.is_whitespace() || c == '>' || c == '<' => break,
                    '\'' => {
                        chars.next();
                        loop {
                            match chars.next()? {
                                '\'' => break,
                                c => word.push(c),
                            }
                        }
                    }
                    '"' => {
                        chars.next();
                        let mut quoted = String::new();
                        loop {
                            match chars.next()? {
                                '"' => break,
                                c => quoted.push(c),
                            }
                        }
                        word.push_str(&self.expand(&quoted));
                    }
                    _ => {
                        let plain: String =
                            std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && !"'\"<>".contains(*c)))
                                .collect();
                        word.push_str(&self.expand(&plain));
                    }
                }
            }
            tokens.push(Token::Word(word));
        }
    }

    fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            rest = &rest[at + 1..];
            let (name, default, len) = if let Some(braced) = rest.strip_prefix('{') {
                let end = braced.find('}').unwrap_or(braced.len());
                let inner = &braced[..end];
                let (name, default) = inner.split_once(":-").unwrap_or((inner, ""));
                (name, default, end + 2)
            } else {
                let len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (&rest[..len], "", len)
            };
            let value = self
                .vars
                .get(name)
                .filter(|v| !v.is_empty())
                .map_or(default, String::as_str);
            out.push_str(value);
            rest = rest.get(len..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    fn command(&mut self, argv: &[String], stdin: Option<&[u8]>) -> Out {
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        let iso_tool = lock(&self.shared.iso_tool).clone();
        match args.as_slice() {
            [] => Out::default(),
            [assignment] if assignment.split_once('=').is_some_and(|(n, _)| is_name(n)) => {
                let (name, value) = assignment.split_once('=').unwrap_or_default();
                self.vars.insert(name.into(), value.into());
                Out::default()
            }
            ["set", ..] => Out::default(),
            ["trap", action, "EXIT"] => {
                self.trap = Some(action.to_string());
                Out::default()
            }
            ["exit", code] => {
                self.exit = Some(code.parse().unwrap_or(2));
                Out::default()
            }
            ["echo", words @ ..] => Out::ok(format!("{}\n", words.join(" "))),
            ["hostname"] => Out::ok(format!("{}\n", self.host().node())),
            ["command", "-v", name] => match *name {
                "genisoimage" | "mkisofs" if iso_tool.as_deref() != Some(name) => Out {
                    code: 1,
                    ..Out::default()
                },
                _ => Out::ok(format!("/usr/bin/{name}\n")),
            },
            ["cat"] => Out::ok(stdin.unwrap_or_default()),
            ["cat", path] => match self.read_file(path) {
                Some(contents) => Out::ok(contents),
                None => Out::fail(1, format!("cat: {path}: No such file or directory")),
            },
            ["base64", "-d"] => {
                let encoded: String = String::from_utf8_lossy(stdin.unwrap_or_default())
                    .split_ascii_whitespace()
                    .collect();
                match base64::engine::general_purpose::STANDARD.decode(encoded) {
                    Ok(bytes) => Out::ok(bytes),
                    Err(_) => Out::fail(1, "base64: invalid input"),
                }
            }
            ["mktemp", "-d", template] => {
                let stem = template.trim_end_matches('X');
                let suffix = Alphanumeric.sample_string(&mut rand::thread_rng(), template.len() - stem.len());
                Out::ok(format!("{stem}{suffix}\n"))
            }
            ["mkdir", ..] => Out::default(),
            ["mv", "-f", from, to] | ["mv", from, to] => match self.host().file(from) {
                Some(contents) => {
                    self.host().remove_file(from);
                    self.write_file(to, contents);
                    Out::default()
                }
                None => Out::fail(1, format!("mv: cannot stat '{from}': No such file or directory")),
            },
            ["rm", "-f", path] => {
                self.host().remove_file(path);
                Out::default()
            }
            ["rm", "-rf", path] => {
                let dir = format!("{}/", path.trim_end_matches('/'));
                for file in self.host().files_under(&dir) {
                    self.host().remove_file(&file);
                }
                Out::default()
            }
            [tool @ ("genisoimage" | "mkisofs"), options @ ..] if iso_tool.as_deref() == Some(*tool) => {
                self.build_iso(tool, options)
            }
            ["qm", "status", vmid] => self.with_vm(vmid, |host, id| {
                let status = host.vm(id).map_or("unknown", |vm| vm.status.status());
                Out::ok(format!("status: {status}\n"))
            }),
            ["qm", action @ ("start" | "stop" | "shutdown" | "reset" | "suspend" | "resume"), vmid] => {
                self.with_vm(vmid, |host, id| {
                    let status = match *action {
                        "stop" | "shutdown" => VmStatus::Stopped,
                        "suspend" => VmStatus::Paused,
                        _ => VmStatus::Running,
                    };
                    host.set_vm_status(id, status);
                    Out::default()
                })
            }
            ["qm", "sendkey", vmid, _key] => self.with_vm(vmid, |_, _| Out::default()),
            ["pvesh", "get", path] => self.pvesh_get(path.trim_end_matches('/')),
            [name, ..] => Out::fail(127, format!("sh: 1: {name}: not found")),
        }
    }

    fn with_vm(&self, vmid: &str, f: impl FnOnce(&Host, u32) -> Out) -> Out {
        match vmid.parse::<u32>().ok().filter(|id| self.host().vm(*id).is_some()) {
            Some(id) => f(self.host(), id),
            None => Out::fail(
                2,
                format!(
                    "Configuration file 'nodes/{}/qemu-server/{vmid}.conf' does not exist",
                    self.host().node()
                ),
            ),
        }
    }

    /// JSON output, as `pvesh get … --output-format json` would print it.
    fn pvesh_get(&self, path: &str) -> Out {
        let node = self.host().node();
        let vms = self.host().vms();
        let list = |with_node: bool| {
            vms.iter()
                .map(|(id, vm)| {
                    let mut entry = json!({"vmid": id, "name": vm.name(), "status": vm.status.status()});
                    if with_node {
                        entry["id"] = json!(format!("qemu/{id}"));
                        entry["type"] = json!("qemu");
                        entry["node"] = json!(node);
                    }
                    entry
                })
                .collect::<Vec<_>>()
        };
        if path == "/cluster/resources" {
            Out::ok(format!("{}\n", json!(list(true))))
        } else if path == format!("/nodes/{node}/qemu") {
            Out::ok(format!("{}\n", json!(list(false))))
        } else {
            Out::fail(2, format!("no such resource '{path}'"))
        }
    }

    /// A fake image listing the files under the source directory (see [`fake_iso_contents`]).
    fn build_iso(&self, tool: &str, options: &[&str]) -> Out {
        let [flags @ .., "-o", output, source] = options else {
            return Out::fail(1, format!("{tool}: Missing pathspec"));
        };
        if !(flags.contains(&"-J") && flags.contains(&"-R")) {
            return Out::fail(1, format!("{tool}: the double expects -J -R"));
        }
        let volume = match flags.iter().position(|f| *f == "-V").and_then(|i| flags.get(i + 1)) {
            Some(volume) => volume.to_string(),
            None => return Out::fail(1, format!("{tool}: the double expects -V <label>")),
        };
        let dir = format!("{}/", source.trim_end_matches('/'));
        let mut image = format!("{FAKE_ISO_MAGIC}\nvolume: {volume}\n");
        for path in self.host().files_under(&dir) {
            let contents = self.host().file(&path).unwrap_or_default();
            let name = &path[dir.len()..];
            image.push_str(&format!(
                "file: {name} {}\n",
                base64::engine::general_purpose::STANDARD.encode(contents)
            ));
        }
        self.host().put_file(output, image);
        Out::default()
    }

    /// VM configs are views of the VM state; every other path is a plain file.
    fn read_file(&self, path: &str) -> Option<Vec<u8>> {
        match config_vmid(path) {
            Some(vmid) => self.host().vm_config_text(vmid).map(String::into_bytes),
            None => self.host().file(path),
        }
    }

    fn write_file(&self, path: &str, contents: Vec<u8>) {
        match config_vmid(path) {
            Some(vmid) => self
                .host()
                .set_vm_config_text(vmid, &String::from_utf8_lossy(&contents)),
            None => self.host().put_file(path, contents),
        }
    }
}

fn config_vmid(path: &str) -> Option<u32> {
    path.strip_prefix(QEMU_CONFIG_DIR)?.strip_suffix(".conf")?.parse().ok()
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The heredoc body up to the `end` line, each line with its newline.
fn read_heredoc(rest: &mut Lines, end: &str) -> Vec<u8> {
    let mut body = String::new();
    for line in rest.by_ref() {
        if line == end {
            break;
        }
        body.push_str(line);
        body.push('\n');
    }
    body.into_bytes()
}

impl Host {
    /// The volume label and files of the image `name` in the `local` ISO directory, if the SSH
    /// double built it there.
    pub fn provision_iso(&self, name: &str) -> Option<(String, BTreeMap<String, Vec<u8>>)> {
        fake_iso_contents(&self.file(&format!("{ISO_DIR}{name}"))?)
    }
}
