//! The local pairing/computers page: the real `botmox-agent ui --no-browser`, the real Bot-Mox
//! server (the `botmox` binary beside the agent's) and the Proxmox VE double, over loopback.

mod common;

use std::path::{Path, PathBuf};

use botmox_testkit::pve::{PveDouble, PveOptions};
use common::{command, server, Proc, AGENT, WAIT};
use reqwest::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{json, Value};

// Distinctive, so that finding them in a body can only mean a leak.
const TOKEN_SECRET: &str = "pve-tok-7f3a9c1e";
const WRONG_SECRET: &str = "not-it-5b2d8e4a";

/// `botmox-agent ui <page> --no-browser`; the process and the one-time link it printed.
fn ui(dir: &Path, page: &str, idle_secs: u32) -> (Proc, String) {
    let mut cmd = command(Path::new(AGENT));
    cmd.arg("--config-dir")
        .arg(dir)
        .args(["ui", page, "--no-browser"])
        .env("BOTMOX_AGENT_UI_IDLE_SECS", idle_secs.to_string());
    let mut proc = Proc::spawn(cmd);
    let link = format!("http://{}", proc.wait_for_word("http://", |w| w.contains("?token=")));
    (proc, link)
}

/// Talks to the page like a browser that holds its cookie; keeps every body it receives.
struct Browser {
    http: reqwest::Client,
    origin: String,
    cookie: String,
    bodies: Vec<String>,
}

impl Browser {
    async fn call(&mut self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.origin))
            .header(COOKIE, &self.cookie);
        if let Some(body) = body {
            req = req.header(ORIGIN, &self.origin).json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        self.bodies.push(text.clone());
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(WAIT)
        .build()
        .unwrap()
}

fn config(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("botmox-local-ui-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_pairs_and_manages_targets_behind_its_one_time_token() {
    let data = tempfile::tempdir().unwrap();
    let (server, base, admin) = server(data.path()).await;
    let pve = PveDouble::start(PveOptions {
        token_secret: TOKEN_SECRET.into(),
        ..PveOptions::default()
    })
    .await
    .unwrap();
    let dir = temp("pair");
    let (mut ui, link) = ui(&dir, "computers", 600);
    let http = no_redirects();
    let origin = link.split("/computers").next().unwrap().to_owned();
    let port = origin.rsplit(':').next().unwrap().to_owned();

    // Without the token: refused, and the page says how to get in.
    let res = http.get(format!("{origin}/computers")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("one-time token"));
    let res = http
        .get(format!("{origin}/computers?token=guess"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A DNS-rebinding page reaches the port under another name: refused before the token counts.
    let res = http
        .get(&link)
        .header(HOST, format!("rebound.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // The token buys an HttpOnly, SameSite=Strict cookie, once.
    let res = http.get(&link).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/computers");
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    assert_eq!(http.get(&link).send().await.unwrap().status(), 403, "a link works once");

    let mut browser = Browser {
        http,
        origin: origin.clone(),
        cookie,
        bodies: Vec::new(),
    };
    let page = browser
        .http
        .get(format!("{origin}/computers"))
        .header(COOKIE, &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Test connection"));
    let rebound = browser
        .http
        .get(format!("{origin}/api/state"))
        .header(COOKIE, &browser.cookie)
        .header(HOST, format!("rebound.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403, "the cookie alone is not enough");
    let (status, state) = browser.call("GET", "/api/state", None).await;
    assert_eq!((status, &state["data"]["paired"]), (200, &json!(false)), "{state}");

    // Pairing: a wrong code and an unreachable server say what to do; a real code pairs.
    let (status, bad) = browser
        .call(
            "POST",
            "/api/pair",
            Some(json!({ "input": "no-such-code", "server": base })),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    let message = bad["error"]["message"].as_str().unwrap();
    assert!(message.contains("not found or already used"), "{message}");
    let (status, down) = browser
        .call(
            "POST",
            "/api/pair",
            Some(json!({ "input": "abc", "server": "http://127.0.0.1:9" })),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        down["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot reach the server"),
        "{down}"
    );
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/agents/pairings"))
        .bearer_auth(&admin)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let pairing = res.json::<Value>().await.unwrap()["data"].clone();
    let uri = pairing["pairing_uri"].as_str().unwrap();
    let (status, paired) = browser
        .call("POST", "/api/pair", Some(json!({ "input": uri, "name": "lab-pc" })))
        .await;
    assert_eq!(status, 200, "{paired}\n{}", server.log());
    let id = paired["data"]["agent_id"].as_str().unwrap().to_owned();
    assert_eq!(config(&dir)["agent_id"], id.as_str());
    assert_eq!(config(&dir)["server_url"], base.as_str());
    let (_, state) = browser.call("GET", "/api/state", None).await;
    assert_eq!(state["data"]["paired"], true);
    let (status, malformed) = browser.call("POST", "/api/pair", Some(json!({ "code": 1 }))).await;
    assert_eq!(status, 422);
    assert_eq!(malformed["error"]["code"], "INVALID_BODY", "{malformed}");

    // Test connection: the right token passes, a wrong one shows Proxmox's refusal.
    let target = |secret: &str| {
        json!({
            "name": "double", "url": pve.url, "node": "h1",
            "token_id": pve.token_id, "token_secret": secret,
            "fingerprint": pve.fingerprint_sha256,
        })
    };
    let (status, ok) = browser
        .call("POST", "/api/targets/test", Some(target(TOKEN_SECRET)))
        .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["data"]["version"], "8.2.4");
    let (status, refused) = browser
        .call("POST", "/api/targets/test", Some(target(WRONG_SECRET)))
        .await;
    assert_eq!(status, 422);
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("401") && message.contains("invalid token value"),
        "{message}"
    );
    let (status, insecure) = browser
        .call(
            "POST",
            "/api/targets/test",
            Some(json!({ "name": "d", "url": pve.url, "node": "h1", "username": "root@pam", "password": pve.password, "insecure": true })),
        )
        .await;
    assert_eq!(status, 200, "password login with TLS unchecked: {insecure}");
    let (status, invalid) = browser
        .call(
            "POST",
            "/api/targets/test",
            Some(json!({ "name": "d", "url": "pve:8006", "node": "h1" })),
        )
        .await;
    assert_eq!(status, 422);
    assert!(invalid["error"]["message"].as_str().unwrap().contains("https://"));

    // Saving: a failing test refuses unless "save anyway"; a passing one saves.
    let (status, refused) = browser
        .call("POST", "/api/targets", Some(json!({ "target": target(WRONG_SECRET) })))
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(config(&dir)["targets"].as_array().unwrap().is_empty());
    let (status, saved) = browser
        .call("POST", "/api/targets", Some(json!({ "target": target(TOKEN_SECRET) })))
        .await;
    assert_eq!(status, 201, "{saved}");
    let target_id = saved["data"]["target"]["id"].as_str().unwrap().to_owned();
    assert_eq!(saved["data"]["test"]["node"], "h1");
    let listed = command(Path::new(AGENT))
        .arg("--config-dir")
        .arg(&dir)
        .args(["target", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&target_id));
    let secrets = std::fs::read_to_string(dir.join("secrets.json")).unwrap();
    assert!(secrets.contains(TOKEN_SECRET));
    assert!(!std::fs::read_to_string(dir.join("config.json"))
        .unwrap()
        .contains(TOKEN_SECRET));
    let (status, anyway) = browser
        .call(
            "POST",
            "/api/targets",
            Some(json!({ "target": { "name": "down", "url": "https://127.0.0.1:9", "node": "n1", "username": "root", "password": WRONG_SECRET, "insecure": true }, "save_anyway": true })),
        )
        .await;
    assert_eq!(status, 201, "{anyway}");
    assert_eq!(anyway["data"]["test"], Value::Null);
    let (_, state) = browser.call("GET", "/api/state", None).await;
    assert_eq!(state["data"]["targets"].as_array().unwrap().len(), 2, "{state}");

    // Remove, then remove again: 404.
    let path = format!("/api/targets/{}", target_id.replace('|', "%7C"));
    let (status, _) = browser.call("DELETE", &path, None).await;
    assert_eq!(status, 200);
    let (status, gone) = browser.call("DELETE", &path, None).await;
    assert_eq!(status, 404, "{gone}");
    let (_, state) = browser.call("GET", "/api/state", None).await;
    let left: Vec<&str> = state["data"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["down"]);

    // No answer ever carried a secret back.
    for body in &browser.bodies {
        for secret in [TOKEN_SECRET, WRONG_SECRET, pve.password.as_str()] {
            assert!(!body.contains(secret), "{secret} leaked in {body}");
        }
        assert!(!body.contains("bmx_"), "the agent token leaked in {body}");
    }

    // A write from another site is refused; "Done" stops the page and the process.
    let foreign = browser
        .http
        .post(format!("{origin}/api/done"))
        .header(COOKIE, &browser.cookie)
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let (status, _) = browser.call("POST", "/api/done", Some(json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(ui.exited_within(WAIT), Some(0), "{}", ui.log());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_page_stops_by_itself() {
    let dir = temp("idle");
    let (mut ui, link) = ui(&dir, "pair", 1);
    assert!(link.contains("/pair?token="), "{link}");
    assert_eq!(ui.exited_within(WAIT), Some(0), "{}", ui.log());
    std::fs::remove_dir_all(dir).unwrap();
}
