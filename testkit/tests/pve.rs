//! The PVE double's own contract: what it refuses the way real PVE does, so client tests
//! against it mean something.

use botmox_testkit::host::{Vm, ISO_DIR};
use botmox_testkit::pve::{PveDouble, PveOptions};
use reqwest::StatusCode;
use serde_json::Value;

struct Session {
    http: reqwest::Client,
    api: String,
    ticket: String,
    csrf: String,
}

async fn login(pve: &PveDouble) -> Session {
    // The tests here are about the API, not TLS: the agent's tests cover pinning.
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let api = format!("{}/api2/json", pve.url);
    let form = [("username", pve.username.as_str()), ("password", pve.password.as_str())];
    let body: Value = http
        .post(format!("{api}/access/ticket"))
        .form(&form)
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let field = |name: &str| body["data"][name].as_str().expect("ticket fields").to_string();
    Session {
        ticket: field("ticket"),
        csrf: field("CSRFPreventionToken"),
        http,
        api,
    }
}

impl Session {
    fn request(&self, method: reqwest::Method, path: &str, csrf: bool) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.api))
            .header("Cookie", format!("PVEAuthCookie={}", self.ticket));
        if csrf {
            request.header("CSRFPreventionToken", &self.csrf)
        } else {
            request
        }
    }
}

async fn double() -> PveDouble {
    let pve = PveDouble::start(PveOptions::default()).await.expect("start");
    pve.host.insert_vm(101, Vm::new("bot-01"));
    pve
}

#[tokio::test]
async fn auth_is_checked_like_pve() {
    let pve = double().await;
    let s = login(&pve).await;
    let anonymous = s.http.get(format!("{}/version", s.api)).send().await.expect("send");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let read = s
        .request(reqwest::Method::GET, "/version", false)
        .send()
        .await
        .expect("send");
    assert_eq!(read.status(), StatusCode::OK, "reads need no CSRF token");
    let write = s
        .request(reqwest::Method::POST, "/nodes/h1/qemu/101/status/start", false)
        .send()
        .await
        .expect("send");
    assert_eq!(write.status(), StatusCode::UNAUTHORIZED, "writes need the CSRF token");
    let write = s
        .request(reqwest::Method::POST, "/nodes/h1/qemu/101/status/start", true)
        .send()
        .await
        .expect("send");
    assert_eq!(write.status(), StatusCode::OK);

    let bad_token = format!("PVEAPIToken={}=wrong", pve.token_id);
    let refused = s
        .http
        .get(format!("{}/version", s.api))
        .header("Authorization", bad_token)
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let wrong = [("username", "root@pam"), ("password", "nope")];
    let refused = s
        .http
        .post(format!("{}/access/ticket", s.api))
        .form(&wrong)
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    pve.controls.expire_tickets();
    let expired = s
        .request(reqwest::Method::GET, "/version", false)
        .send()
        .await
        .expect("send");
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(pve.controls.logins(), 1);
}

#[tokio::test]
async fn bad_parameters_are_refused() {
    let pve = double().await;
    let s = login(&pve).await;
    let put = |form: &'static [(&'static str, &'static str)]| {
        s.request(reqwest::Method::PUT, "/nodes/h1/qemu/101/config", true)
            .form(form)
            .send()
    };
    assert_eq!(
        put(&[("timeoutMs", "5")]).await.expect("send").status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put(&[("onboot", "1"), ("delete", "net0")])
            .await
            .expect("send")
            .status(),
        StatusCode::OK
    );
    let vm = pve.host.vm(101).expect("vm");
    assert_eq!(vm.config.get("onboot").map(String::as_str), Some("1"));
    assert!(!vm.config.contains_key("net0"));

    let clone = s
        .request(reqwest::Method::POST, "/nodes/h1/qemu/101/clone", true)
        .form(&[("newid", "101")])
        .send()
        .await;
    assert_eq!(
        clone.expect("send").status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "the id is taken"
    );
    let missing = s
        .request(reqwest::Method::GET, "/nodes/h1/qemu/999/status/current", false)
        .send()
        .await;
    assert_eq!(missing.expect("send").status(), StatusCode::INTERNAL_SERVER_ERROR);
    let other_node = s.request(reqwest::Method::GET, "/nodes/h9/qemu", false).send().await;
    assert_eq!(other_node.expect("send").status(), StatusCode::INTERNAL_SERVER_ERROR);

    let upload = |name: &'static str| {
        let part = reqwest::multipart::Part::bytes(b"iso".to_vec()).file_name(name);
        let form = reqwest::multipart::Form::new()
            .text("content", "iso")
            .part("filename", part);
        s.request(reqwest::Method::POST, "/nodes/h1/storage/local/upload", true)
            .multipart(form)
            .send()
    };
    assert_eq!(upload("evil.sh").await.expect("send").status(), StatusCode::BAD_REQUEST);
    let accepted = upload("seed.iso").await.expect("send");
    assert_eq!(accepted.status(), StatusCode::OK);
    let upid: Value = accepted.json().await.expect("json");
    assert!(upid["data"].as_str().is_some_and(|u| u.contains(":imgcopy:")), "{upid}");
    // The file appears when the copy task ends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while pve.host.file(&format!("{ISO_DIR}seed.iso")).is_none() {
        assert!(std::time::Instant::now() < deadline, "the upload task never finished");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(pve.host.files_under(ISO_DIR), [format!("{ISO_DIR}seed.iso")]);
}
