//! Provisioning (api-ops.md §8): unattend profiles, the generated answer file, the config ISO
//! read back by xorriso, provisioning tokens through one VM's setup, and who may do what.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use quick_xml::events::Event;
use serde_json::{json, Value};

fn full_config() -> Value {
    json!({
        "user": {"nameMode": "custom", "customName": "Operator", "displayName": "Tom & \"Jerry\" <ops>",
                 "password": "s3cret&<pw>", "group": "Users", "autoLogonCount": 3},
        "computerName": {"mode": "custom", "customName": "BOTMOX-01"},
        "locale": {"uiLanguage": "de-DE", "timeZone": "UTC", "geoLocation": 94,
                   "keyboardLayouts": [{"language": "0407", "layout": "00000407"}, {"language": "0409", "layout": "00000409"}]},
        "softwareRemoval": {"mode": "fixed", "fixedPackages": ["Microsoft.BingNews", "Microsoft.Keep"], "neverRemove": ["Microsoft.Keep"]},
        "capabilityRemoval": {"mode": "fixed", "fixedCapabilities": ["Media.WindowsMediaPlayer"]},
        "visualEffects": {"mode": "custom", "effects": {"animateMinMax": true}},
        "desktopIcons": {"mode": "custom", "icons": {"thisPC": true}, "startFolders": {"documents": true}, "deleteEdgeShortcut": true},
        "customScript": {"executable": "START.ps1", "delaySeconds": 5},
        "windowsSettings": {"disableDefender": false, "enableRemoteDesktop": true},
        "productKey": "VK7JG-NPHTM-C97JM-9MPGT-3V66T",
        "somethingNew": {"kept": true}
    })
}

fn generate_body(vm_uuid: &str) -> Value {
    json!({
        "profile_config": full_config(), "vm_uuid": vm_uuid, "vm_name": "bot-1",
        "ip": {"address": "10.0.0.5", "gateway": "10.0.0.1", "netmask": "255.255.255.0", "dns": ["1.1.1.1", "9.9.9.9"]}
    })
}

/// Every element's text by its path of local names (`unattend/settings/component/…`), in
/// document order.
fn xml_texts(xml: &str) -> BTreeMap<String, Vec<String>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut open: Vec<(String, String)> = Vec::new();
    let mut out = BTreeMap::<String, Vec<String>>::new();
    loop {
        let event = reader.read_event().expect("the answer file is well-formed XML");
        let text = match &event {
            Event::Start(e) => {
                open.push((
                    String::from_utf8(e.local_name().as_ref().to_vec()).unwrap(),
                    String::new(),
                ));
                continue;
            }
            Event::End(_) => {
                let path: Vec<&str> = open.iter().map(|(n, _)| n.as_str()).collect();
                let path = path.join("/");
                let (_name, text) = open.pop().unwrap();
                if !text.trim().is_empty() {
                    out.entry(path).or_default().push(text);
                }
                continue;
            }
            Event::Eof => break,
            Event::Text(t) => t.xml_content().expect("valid text").into_owned(),
            // quick-xml reports entity references apart from the text around them.
            Event::GeneralRef(r) => match r.as_ref() {
                b"amp" => "&".to_owned(),
                b"lt" => "<".to_owned(),
                b"gt" => ">".to_owned(),
                b"quot" => "\"".to_owned(),
                b"apos" => "'".to_owned(),
                other => panic!("unexpected entity {other:?}"),
            },
            _ => continue,
        };
        if let Some((_, buffer)) = open.last_mut() {
            buffer.push_str(&text);
        }
    }
    assert!(open.is_empty(), "every element is closed");
    out
}

fn decode(b64: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(b64.as_str().unwrap())
        .unwrap()
}

fn unobscure(b64: &str) -> String {
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let units: Vec<u16> = raw.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    String::from_utf16(&units).unwrap()
}

#[tokio::test]
async fn profiles_are_crud_in_the_owner_scope_with_unique_names_and_one_default() {
    let server = TestServer::start().await;
    let alice = server.user("alice@example.com", "acme", "api").await;
    let bob = server.user("bob@example.com", "acme", "api").await;
    let eve = server.user("eve@example.com", "other", "admin").await;

    let (status, first) = server
        .call(
            "POST",
            "/api/v1/unattend-profiles",
            &alice,
            Some(json!({"name": " Main ", "is_default": true, "config": full_config()})),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    let first = &first["data"];
    assert_eq!(
        (first["name"].as_str(), first["is_default"].as_bool()),
        (Some("Main"), Some(true))
    );
    assert_eq!(
        first["config"]["somethingNew"],
        json!({"kept": true}),
        "unknown keys are kept"
    );
    let id = first["id"].as_str().unwrap().to_owned();

    let (status, second) = server
        .call(
            "POST",
            "/api/v1/unattend-profiles",
            &alice,
            Some(json!({"name": "Spare", "is_default": true, "config": full_config()})),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    let second_id = second["data"]["id"].as_str().unwrap().to_owned();
    let list = server.call_ok("GET", "/api/v1/unattend-profiles", &alice, None).await;
    let names: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].clone(), p["is_default"].clone()))
        .collect();
    assert_eq!(
        names,
        [(json!("Main"), json!(false)), (json!("Spare"), json!(true))],
        "oldest first, one default"
    );

    let (status, dup) = server
        .call(
            "PUT",
            &format!("/api/v1/unattend-profiles/{second_id}"),
            &alice,
            Some(json!({"name": "Main"})),
        )
        .await;
    assert_eq!((status, dup["error"]["code"].as_str()), (409, Some("DUPLICATE_NAME")));
    assert_eq!(dup["error"]["message"], "Profile name \"Main\" already exists");

    let mut bad = full_config();
    bad["computerName"] = json!({"mode": "custom", "customName": "far-too-long-computer-name"});
    bad["user"]["nameMode"] = json!("whatever");
    let (status, err) = server
        .call(
            "POST",
            "/api/v1/unattend-profiles",
            &alice,
            Some(json!({"name": "Bad", "config": bad})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("PROVISIONING_INVALID_PROFILE_CREATE_BODY")),
        "{err}"
    );
    assert!(
        err["error"]["details"]["fieldErrors"]["config.user.nameMode"].is_array(),
        "{err}"
    );
    let (status, err) = server
        .call(
            "PUT",
            &format!("/api/v1/unattend-profiles/{id}"),
            &alice,
            Some(json!({"config": {"user": 1}})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("PROVISIONING_INVALID_PROFILE_UPDATE_BODY"))
    );
    let (status, err) = server
        .call("PUT", "/api/v1/unattend-profiles/not-a-uuid", &alice, Some(json!({})))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("PROVISIONING_INVALID_PROFILE_ID"))
    );

    let (status, updated) = server
        .call(
            "PUT",
            &format!("/api/v1/unattend-profiles/{id}"),
            &alice,
            Some(json!({"name": "Renamed", "is_default": true})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["data"]["name"], "Renamed");
    assert_ne!(updated["data"]["updated_at"], first["updated_at"]);
    let list = server.call_ok("GET", "/api/v1/unattend-profiles", &alice, None).await;
    let defaults: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["is_default"].as_bool().unwrap())
        .collect();
    assert_eq!(defaults, [true, false]);

    // Another user of the tenant, and another tenant's admin, see nothing and touch nothing.
    for other in [&bob, &eve] {
        let list = server.call_ok("GET", "/api/v1/unattend-profiles", other, None).await;
        assert_eq!(list["data"], json!([]));
        for method in ["PUT", "DELETE"] {
            let (status, err) = server
                .call(
                    method,
                    &format!("/api/v1/unattend-profiles/{id}"),
                    other,
                    Some(json!({"name": "x"})),
                )
                .await;
            assert_eq!(
                (status, err["error"]["code"].as_str()),
                (404, Some("UNATTEND_PROFILE_NOT_FOUND"))
            );
        }
    }
    // Bob may reuse Alice's name: names are unique per user.
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/unattend-profiles",
            &bob,
            Some(json!({"name": "Renamed", "config": full_config()})),
        )
        .await;
    assert_eq!(status, 201);

    let (status, deleted) = server
        .call("DELETE", &format!("/api/v1/unattend-profiles/{id}"), &alice, None)
        .await;
    assert_eq!((status, &deleted["data"]), (200, &json!({"deleted": true})));
    let (status, _) = server
        .call("DELETE", &format!("/api/v1/unattend-profiles/{id}"), &alice, None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_answer_file_is_valid_xml_holding_every_chosen_option() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body("1f0c8a52-aaaa-4bbb-8ccc-0123456789ab")),
        )
        .await;
    assert_eq!(status, 200, "{res}");
    let data = &res["data"];
    assert_eq!(
        (data["computerName"].as_str(), data["username"].as_str()),
        (Some("BOTMOX-01"), Some("Operator"))
    );
    let files = data["files"].as_object().unwrap();
    let mut names: Vec<_> = files.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        ["START.ps1", "autounattend.xml", "provision.json"],
        "no playbook: none attached"
    );
    assert!(data["playbookId"].is_null());

    let xml = String::from_utf8(decode(&files["autounattend.xml"])).unwrap();
    let t = xml_texts(&xml);
    let one = |path: &str| -> String {
        let found = t.get(path).unwrap_or_else(|| panic!("{path} missing in\n{xml}"));
        found[0].clone()
    };
    let all = |path: &str| -> Vec<String> { t.get(path).cloned().unwrap_or_default() };
    let shell = "unattend/settings/component";
    // Users.
    let account = format!("{shell}/UserAccounts/LocalAccounts/LocalAccount");
    assert_eq!(one(&format!("{account}/Name")), "Operator");
    assert_eq!(
        one(&format!("{account}/DisplayName")),
        "Tom & \"Jerry\" <ops>",
        "escaped and read back"
    );
    assert_eq!(one(&format!("{account}/Group")), "Users");
    assert_eq!(
        unobscure(&one(&format!("{account}/Password/Value"))),
        "s3cret&<pw>Password"
    );
    assert_eq!(one(&format!("{account}/Password/PlainText")), "false");
    assert_eq!(one(&format!("{shell}/AutoLogon/LogonCount")), "3");
    assert_eq!(one(&format!("{shell}/AutoLogon/Username")), "Operator");
    assert_eq!(one(&format!("{shell}/AutoLogon/Enabled")), "true");
    assert_eq!(one(&format!("{shell}/OOBE/ProtectYourPC")), "3");
    // Computer name, locale and keyboard.
    assert_eq!(one(&format!("{shell}/ComputerName")), "BOTMOX-01");
    assert_eq!(one(&format!("{shell}/TimeZone")), "UTC");
    assert_eq!(
        all(&format!("{shell}/InputLocale")),
        vec!["0407:00000407;0409:00000409"; 3],
        "windowsPE, specialize, oobe"
    );
    assert!(all(&format!("{shell}/UILanguage")).iter().all(|l| l == "de-DE"));
    assert_eq!(one(&format!("{shell}/SetupUILanguage/UILanguage")), "de-DE");
    // Product key and partitioning.
    assert_eq!(
        one(&format!("{shell}/UserData/ProductKey/Key")),
        "VK7JG-NPHTM-C97JM-9MPGT-3V66T"
    );
    assert_eq!(one(&format!("{shell}/UserData/ProductKey/WillShowUI")), "OnError");
    assert_eq!(one(&format!("{shell}/UserData/AcceptEula")), "true");
    let disk = format!("{shell}/DiskConfiguration/Disk");
    assert_eq!(one(&format!("{disk}/WillWipeDisk")), "true");
    assert_eq!(
        all(&format!("{disk}/CreatePartitions/CreatePartition/Type")),
        ["EFI", "MSR", "Primary"]
    );
    assert_eq!(
        all(&format!("{disk}/CreatePartitions/CreatePartition/Size")),
        ["512", "16"]
    );
    assert_eq!(
        all(&format!("{disk}/ModifyPartitions/ModifyPartition/Format")),
        ["FAT32", "NTFS"]
    );
    assert_eq!(one(&format!("{disk}/ModifyPartitions/ModifyPartition/Letter")), "C");
    assert_eq!(one(&format!("{shell}/ImageInstall/OSImage/InstallTo/PartitionID")), "3");
    // Network.
    assert_eq!(
        one(&format!("{shell}/Interfaces/Interface/UnicastIpAddresses/IpAddress")),
        "10.0.0.5/24"
    );
    assert_eq!(
        one(&format!("{shell}/Interfaces/Interface/Routes/Route/NextHopAddress")),
        "10.0.0.1"
    );
    assert_eq!(
        all(&format!("{shell}/Interfaces/Interface/DNSServerSearchOrder/IpAddress")),
        ["1.1.1.1", "9.9.9.9"]
    );
    // Specialize: no online account needed.
    assert!(all(&format!("{shell}/RunSynchronous/RunSynchronousCommand/Path"))[0].contains("BypassNRO"));
    // First-logon commands, in order.
    let commands = all(&format!("{shell}/FirstLogonCommands/SynchronousCommand/CommandLine"));
    assert_eq!(commands.len(), 5, "{commands:?}");
    assert!(commands[0].contains(r"mkdir C:\WindowsSetup"));
    assert!(commands[1].contains("provision.json") && commands[2].contains("START.ps1"));
    assert!(commands[3].contains(r"C:\WindowsSetup\firstlogon.ps1"));
    assert!(commands[4].contains("Start-Sleep -Seconds 5") && commands[4].contains(r"C:\WindowsSetup\START.ps1"));
    let orders = all(&format!("{shell}/FirstLogonCommands/SynchronousCommand/Order"));
    assert_eq!(orders, ["1", "2", "3", "4", "5"]);
    // The first-logon script, carried in the answer file.
    let script = one("unattend/Extensions/File");
    for wanted in [
        "*Microsoft.BingNews*",
        "*Media.WindowsMediaPlayer*",
        "fDenyTSConnections",
        "Remote Desktop",
        "Set-WinHomeLocation -GeoId 94",
        "'MinAnimate' -Value '1'",
        "'TaskbarAnimations' -Value 0",
        "'{20D04FE0-3AEA-1069-A2D8-08002B30309D}' -Value 0",
        "'{645FF040-5081-101B-9F08-00AA002F954E}' -Value 1",
        "AllowPinnedFolderDocuments' -Value 1",
        "Microsoft Edge.lnk",
        "EnableLUA",
    ] {
        assert!(script.contains(wanted), "{wanted:?} missing from the script:\n{script}");
    }
    assert!(!script.contains("Microsoft.Keep"), "neverRemove wins");
    assert!(!script.contains("DisableRealtimeMonitoring"), "disableDefender: false");

    let provision: Value = serde_json::from_slice(&decode(&files["provision.json"])).unwrap();
    assert_eq!(provision["version"], 1);
    assert_eq!(provision["vm_uuid"], "1f0c8a52-aaaa-4bbb-8ccc-0123456789ab");
    assert_eq!(provision["token"], data["token"]);
    assert_eq!(
        provision["ip"],
        json!({"address": "10.0.0.5", "netmask": "255.255.255.0", "gateway": "10.0.0.1", "dns": ["1.1.1.1", "9.9.9.9"]})
    );
    assert_eq!(provision["api_endpoint"].as_str(), Some(server.base.as_str()));
    assert_eq!(provision["bootstrap_url"], "/provisioning/validate-token");
    let bootstrap = String::from_utf8(decode(&files["START.ps1"])).unwrap();
    assert!(bootstrap.contains("/provisioning/report-progress") && bootstrap.contains("windows_installed"));

    // Defaults: random names of the documented shapes, the default netmask and DNS.
    let minimal = json!({
        "user": {"nameMode": "random"}, "computerName": {"mode": "random"}, "locale": {},
        "softwareRemoval": {"mode": "fixed"}, "capabilityRemoval": {"mode": "fixed"},
        "visualEffects": {}, "desktopIcons": {}, "windowsSettings": {}
    });
    let body = json!({"profile_config": minimal, "vm_uuid": "vm-defaults-1", "ip": {"address": "10.0.0.6", "gateway": "10.0.0.1"}});
    let (status, res) = server
        .call("POST", "/api/v1/provisioning/generate-iso-payload", &op, Some(body))
        .await;
    assert_eq!(status, 200, "{res}");
    let name = res["data"]["computerName"].as_str().unwrap();
    assert!(name.starts_with("DESKTOP-") && name.len() == 15, "{name}");
    let provision: Value = serde_json::from_slice(&decode(&res["data"]["files"]["provision.json"])).unwrap();
    assert_eq!(provision["ip"]["netmask"], "255.255.255.0");
    assert_eq!(provision["ip"]["dns"], json!(["8.8.8.8"]));
    let xml = String::from_utf8(decode(&res["data"]["files"]["autounattend.xml"])).unwrap();
    let t = xml_texts(&xml);
    assert_eq!(t[&format!("{shell}/InputLocale")][0], "0409:00000409");
    assert_eq!(t[&format!("{shell}/TimeZone")][0], "Turkey Standard Time");
    assert!(!t.contains_key(&format!("{shell}/UserData/ProductKey/Key")));
    assert_eq!(unobscure(&t[&format!("{account}/Password/Value")][0]), "1204Password");
}

#[tokio::test]
async fn generate_refuses_bad_requests_with_their_codes() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let other = server.user("other@example.com", "default", "api").await;
    let profile = server
        .call_ok(
            "POST",
            "/api/v1/unattend-profiles",
            &other,
            Some(json!({"name": "Theirs", "config": full_config()})),
        )
        .await;
    let theirs = profile["data"]["id"].as_str().unwrap();
    let ip = json!({"address": "10.0.0.5", "gateway": "10.0.0.1"});
    let cases = [
        (
            json!({"vm_uuid": "vm-000001", "ip": ip}),
            400,
            "PROVISIONING_PROFILE_SOURCE_REQUIRED",
        ),
        (
            json!({"profile_id": theirs, "vm_uuid": "vm-000001", "ip": ip}),
            404,
            "UNATTEND_PROFILE_NOT_FOUND",
        ),
        (
            json!({"profile_config": full_config(), "vm_uuid": "x", "ip": ip}),
            400,
            "PROVISIONING_INVALID_GENERATE_BODY",
        ),
        (
            json!({"profile_config": full_config(), "vm_uuid": "vm-000001", "ip": {"address": "10.0.0.300", "gateway": "10.0.0.1"}}),
            400,
            "PROVISIONING_INVALID_GENERATE_BODY",
        ),
        (
            json!({"profile_config": full_config(), "vm_uuid": "vm-000001", "ip": {"address": "10.0.0.3", "gateway": "10.0.0.1", "netmask": "255.0.255.0"}}),
            400,
            "PROVISIONING_INVALID_GENERATE_BODY",
        ),
        (
            json!({"profile_config": {"user": {}}, "vm_uuid": "vm-000001", "ip": ip}),
            400,
            "PROVISIONING_INVALID_GENERATE_BODY",
        ),
        (
            json!({"profile_config": full_config(), "vm_uuid": "vm-000001"}),
            400,
            "PROVISIONING_INVALID_GENERATE_BODY",
        ),
        (json!([1]), 400, "PROVISIONING_INVALID_GENERATE_BODY"),
    ];
    for (body, status, code) in cases {
        let (got, res) = server
            .call(
                "POST",
                "/api/v1/provisioning/generate-iso-payload",
                &op,
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (got, res["error"]["code"].as_str()),
            (status, Some(code)),
            "{body} → {res}"
        );
    }
}

#[tokio::test]
async fn preview_renders_the_answer_file_of_generate_without_a_token() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let vm = "1f0c8a52-aaaa-4bbb-8ccc-0123456789ac";
    let body = generate_body(vm);
    let (status, preview) = server
        .call(
            "POST",
            "/api/v1/unattend-profiles/preview",
            &op,
            Some(json!({"config": full_config(), "ip": body["ip"]})),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    let data = &preview["data"];
    assert_eq!(
        (data["computer_name"].as_str(), data["username"].as_str()),
        (Some("BOTMOX-01"), Some("Operator"))
    );
    let progress = server
        .call_ok("GET", &format!("/api/v1/provisioning/progress/{vm}"), &op, None)
        .await;
    assert!(
        progress["data"]["token"].is_null(),
        "a preview issues no token: {progress}"
    );

    // This config draws nothing at random: generate writes the very same answer file.
    let (status, generated) = server
        .call("POST", "/api/v1/provisioning/generate-iso-payload", &op, Some(body))
        .await;
    assert_eq!(status, 200, "{generated}");
    let xml = String::from_utf8(decode(&generated["data"]["files"]["autounattend.xml"])).unwrap();
    assert_eq!(data["xml"].as_str(), Some(xml.as_str()));

    // Without an address the documentation one is written.
    let (status, preview) = server
        .call(
            "POST",
            "/api/v1/unattend-profiles/preview",
            &op,
            Some(json!({"config": full_config()})),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    let texts = xml_texts(preview["data"]["xml"].as_str().unwrap());
    assert!(texts.values().flatten().any(|t| t == "192.0.2.10/24"), "{preview}");

    let mut bad_config = full_config();
    bad_config["user"]["nameMode"] = json!("bogus");
    let cases = [
        (json!({}), None),
        (json!([1]), None),
        (json!({"config": bad_config}), Some("config.user.nameMode")),
        (
            json!({"config": full_config(), "ip": {"address": "10.0.0.300", "gateway": "10.0.0.1"}}),
            Some("ip.address"),
        ),
    ];
    for (body, field) in cases {
        let (status, err) = server
            .call("POST", "/api/v1/unattend-profiles/preview", &op, Some(body.clone()))
            .await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some("PROVISIONING_INVALID_PREVIEW_BODY")),
            "{body} → {err}"
        );
        if let Some(field) = field {
            assert!(
                err["error"]["details"]["fieldErrors"][field].is_array(),
                "{field}: {err}"
            );
        }
    }
    let (status, _) = post_public(
        &server,
        "/api/v1/unattend-profiles/preview",
        json!({"config": full_config()}),
    )
    .await;
    assert_eq!(status, 401);
}

fn xorriso() -> &'static str {
    let found = std::process::Command::new("xorriso").arg("-version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "xorriso is required by this test (Debian: apt-get install xorriso; .ci/run installs it)"
    );
    "xorriso"
}

#[tokio::test]
async fn the_config_iso_holds_exactly_the_files_and_xorriso_reads_them_back() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let playbook = "name: Base\nroles:\n  - role: base-system\n";
    let (status, pb) = server
        .call(
            "POST",
            "/api/v1/playbooks",
            &op,
            Some(json!({"name": "Base", "is_default": true, "content": playbook})),
        )
        .await;
    assert_eq!(status, 201, "{pb}");
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body("vm-iso-0001")),
        )
        .await;
    assert_eq!(status, 200, "{res}");
    let data = &res["data"];
    assert_eq!(data["playbookId"], pb["data"]["id"], "the default playbook is attached");
    let files = data["files"].as_object().unwrap();
    assert_eq!(decode(&files["playbook.yml"]), playbook.as_bytes());

    // Download without a bearer, through the signed link.
    let url = server.url(data["iso"]["download_url"].as_str().unwrap());
    let res = client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/x-iso9660-image");
    let image = res.bytes().await.unwrap();
    assert_eq!(image.len() as i64, data["iso"]["size"].as_i64().unwrap());
    assert_eq!(image.len() % 2048, 0);
    let tampered = url.replace("sig=", "sig=00");
    assert_eq!(client().get(&tampered).send().await.unwrap().status(), 403);

    // The object store holds the same bytes.
    let objects = server.data_dir.join("objects/provisioning/default/vm-iso-0001");
    let stored: Vec<_> = std::fs::read_dir(&objects)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(std::fs::read(&stored[0]).unwrap(), image.as_ref());

    let dir = tempfile::tempdir().unwrap();
    let iso = dir.path().join("provision.iso");
    std::fs::write(&iso, &image).unwrap();
    let out = dir.path().join("out");
    let run = std::process::Command::new(xorriso())
        .args(["-osirrox", "on", "-indev"])
        .arg(&iso)
        .args(["-extract", "/"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "xorriso failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = String::from_utf8_lossy(&run.stderr);
    assert!(report.contains("Volume id    : 'PROVISION'"), "volume label:\n{report}");
    let mut extracted: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    extracted.sort();
    let mut expected: Vec<String> = files.keys().cloned().collect();
    expected.sort();
    // Mixed-case names can only come from the Joliet tree: the primary one is upper case.
    assert_eq!(extracted, expected, "exactly the payload's files, with their names");
    for (name, b64) in files {
        assert_eq!(std::fs::read(out.join(name)).unwrap(), decode(b64), "{name} differs");
    }

    // A fresh link for the owner only; the re-issued ISO replaces the old object.
    let (status, link) = server
        .call("GET", "/api/v1/provisioning/iso/vm-iso-0001", &op, None)
        .await;
    assert_eq!((status, &link["data"]["sha256"]), (200, &data["iso"]["sha256"]));
    let stranger = server.user("stranger@example.com", "default", "api").await;
    let (status, err) = server
        .call("GET", "/api/v1/provisioning/iso/vm-iso-0001", &stranger, None)
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("PROVISIONING_NOT_FOUND"))
    );
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body("vm-iso-0001")),
        )
        .await;
    assert_eq!(status, 200);
    let stored: Vec<_> = std::fs::read_dir(&objects)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(stored.len(), 1, "the replaced ISO is deleted");
    assert_eq!(
        client().get(&url).send().await.unwrap().status(),
        404,
        "the old link names the old token"
    );
}

#[tokio::test]
async fn the_iso_upload_queues_the_agent_command_with_the_iso_bytes() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let (agent_id, agent_token) = server.paired_agent(&op, "iso-host").await;
    let (agent_id, agent_token) = (agent_id.as_str(), agent_token.as_str());

    let upload = json!({"agent_id": agent_id, "storage": "local"});
    let (status, err) = server
        .call(
            "POST",
            "/api/v1/provisioning/iso/vm-upload-01/upload",
            &op,
            Some(upload.clone()),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("PROVISIONING_NOT_FOUND"))
    );
    let generated = server
        .call_ok(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body("vm-upload-01")),
        )
        .await;
    let (status, err) = server
        .call(
            "POST",
            "/api/v1/provisioning/iso/vm-upload-01/upload",
            &op,
            Some(json!({"agent_id": agent_id, "filename": "../x.iso"})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("PROVISIONING_INVALID_UPLOAD_BODY"))
    );
    let (status, queued) = server
        .call(
            "POST",
            "/api/v1/provisioning/iso/vm-upload-01/upload",
            &op,
            Some(upload),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["data"]["iso_path"], "local:iso/provision-vm-upload-01.iso");
    assert_eq!(queued["data"]["command"]["command_type"], "proxmox.upload-iso");

    // The agent claims it and gets exactly the stored ISO.
    let (status, next) = server
        .call("GET", "/api/v1/vm-ops/commands/next?timeout_ms=1000", agent_token, None)
        .await;
    assert_eq!(status, 200, "{next}");
    let payload = &next["data"]["payload"];
    assert_eq!(
        (payload["storage"].as_str(), payload["filename"].as_str()),
        (Some("local"), Some("provision-vm-upload-01.iso"))
    );
    let link = server.url(generated["data"]["iso"]["download_url"].as_str().unwrap());
    let image = client().get(link).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(decode(&payload["content_base64"]), image.as_ref());
}

async fn post_public(server: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let res = client().post(server.url(path)).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn report(server: &TestServer, token: &str, vm: &str, step: &str, status: &str) -> (u16, Value) {
    let body = json!({"token": token, "vm_uuid": vm, "step": step, "status": status, "details": {"n": 1}});
    post_public(server, "/api/v1/provisioning/report-progress", body).await
}

async fn validate(server: &TestServer, token: &str, vm: &str) -> (u16, Value) {
    post_public(
        server,
        "/api/v1/provisioning/validate-token",
        json!({"token": token, "vm_uuid": vm}),
    )
    .await
}

/// A subscription of the caller's tenant, `days` ahead (negative: expired), `status` as stored.
async fn subscribe(server: &TestServer, bearer: &str, days: i64, status: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (code, res) = server
        .call(
            "POST",
            "/api/v1/resources/subscriptions",
            bearer,
            Some(json!({"type": "bot", "status": status, "bot_id": "b1", "expires_at": now + days * 86_400_000})),
        )
        .await;
    assert_eq!(code, 201, "{res}");
    res["data"]["id"].as_str().unwrap().to_owned()
}

fn refused(res: &(u16, Value), reason: &str) {
    assert_eq!(
        (res.0, res.1["error"]["code"].as_str()),
        (401, Some("TOKEN_INVALID")),
        "{}",
        res.1
    );
    let message = res.1["error"]["message"].as_str().unwrap();
    assert!(message.contains(reason), "{message:?} should say {reason:?}");
}

#[tokio::test]
async fn a_token_serves_every_step_of_its_vm_and_is_refused_after() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let vm = "4c4c4544-0042-3510-8052-b4c04f4e3332";
    let res = server
        .call_ok(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body(vm)),
        )
        .await;
    let token = res["data"]["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("bmx_p_") && token.len() > 40);

    // Without a subscription in `active`/`expiring_soon` the token is refused: cancelled
    // (outside the warning window) and expired ones do not count; an expiring one does.
    refused(&validate(&server, &token, vm).await, "No active subscription");
    subscribe(&server, &op, 30, "cancelled").await;
    subscribe(&server, &op, -1, "active").await;
    refused(&validate(&server, &token, vm).await, "No active subscription");
    let expiring = subscribe(&server, &op, 2, "active").await;
    assert_eq!(validate(&server, &token, vm).await.0, 200);
    server
        .call_ok(
            "DELETE",
            &format!("/api/v1/resources/subscriptions/{expiring}"),
            &op,
            None,
        )
        .await;
    refused(&validate(&server, &token, vm).await, "No active subscription");
    subscribe(&server, &op, 60, "active").await;

    // No bearer: the token is the credential. Every step of the chain, in order.
    let (status, valid) = validate(&server, &token, vm).await;
    assert_eq!(status, 200, "{valid}");
    assert_eq!(valid["data"]["valid"], true);
    assert!(valid["data"]["userId"].is_string() && valid["data"]["tenantId"] == "default");
    // Nothing published: no links.
    assert!(valid["data"]["bootstrap_url"].is_null() && valid["data"]["app_url"].is_null());
    for (step, status) in [
        ("windows_installed", "completed"),
        ("downloader_ready", "running"),
        ("app_downloaded", "completed"),
        ("playbook_running", "running"),
        ("custom_step", "failed"),
    ] {
        let (code, res) = report(&server, &token, &vm.to_uppercase(), step, status).await;
        assert_eq!(code, 200, "{step}: {res}");
        assert_eq!(
            (res["data"]["step"].as_str(), res["data"]["status"].as_str()),
            (Some(step), Some(status))
        );
        assert_eq!(
            validate(&server, &token, vm).await.0,
            200,
            "still valid after {step}/{status}"
        );
    }
    // Another VM is refused, on both routes.
    refused(&validate(&server, &token, "another-vm-0001").await, "VM UUID mismatch");
    refused(
        &report(&server, &token, "another-vm-0001", "x", "running").await,
        "VM UUID mismatch",
    );
    refused(&validate(&server, "bmx_p_nonsense", vm).await, "not found");

    let (status, progress) = server
        .call("GET", &format!("/api/v1/provisioning/progress/{vm}"), &op, None)
        .await;
    assert_eq!(status, 200);
    let steps: Vec<_> = progress["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        steps,
        [
            "windows_installed",
            "downloader_ready",
            "app_downloaded",
            "playbook_running",
            "custom_step"
        ]
    );
    assert_eq!(progress["data"]["events"][0]["details"], json!({"n": 1}));
    assert_eq!(progress["data"]["token"]["status"], "active");
    assert_eq!(
        progress["data"]["updated_at"],
        progress["data"]["events"][4]["created_at"]
    );
    // Each event carries `updated_at` too (the original UI reads it); events never change.
    for event in progress["data"]["events"].as_array().unwrap() {
        assert_eq!(event["updated_at"], event["created_at"], "{event}");
    }

    // Completion uses the token up.
    assert_eq!(report(&server, &token, vm, "completed", "completed").await.0, 200);
    refused(&validate(&server, &token, vm).await, "already used");
    refused(&report(&server, &token, vm, "late", "running").await, "already used");
    let progress = server
        .call_ok("GET", &format!("/api/v1/provisioning/progress/{vm}"), &op, None)
        .await;
    assert_eq!(progress["data"]["token"]["status"], "used");
    assert!(progress["data"]["token"]["used_at"].is_string());

    // Revoked.
    let res = server
        .call_ok(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body("vm-revoke-01")),
        )
        .await;
    let revocable = res["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(validate(&server, &revocable, "vm-revoke-01").await.0, 200);
    let (status, revoked) = server
        .call("POST", "/api/v1/provisioning/tokens/vm-revoke-01/revoke", &op, None)
        .await;
    assert_eq!((status, &revoked["data"]["revoked"]), (200, &json!(true)));
    refused(&validate(&server, &revocable, "vm-revoke-01").await, "revoked");
    refused(
        &report(&server, &revocable, "vm-revoke-01", "x", "running").await,
        "revoked",
    );
    let again = server
        .call_ok("POST", "/api/v1/provisioning/tokens/vm-revoke-01/revoke", &op, None)
        .await;
    assert_eq!(again["data"]["revoked"], false);

    // Expired.
    let mut body = generate_body("vm-expire-01");
    body["token_ttl_seconds"] = json!(1);
    let res = server
        .call_ok("POST", "/api/v1/provisioning/generate-iso-payload", &op, Some(body))
        .await;
    let short = res["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(validate(&server, &short, "vm-expire-01").await.0, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    refused(&validate(&server, &short, "vm-expire-01").await, "expired");
    refused(
        &report(&server, &short, "vm-expire-01", "x", "running").await,
        "expired",
    );
    let progress = server
        .call_ok("GET", "/api/v1/provisioning/progress/vm-expire-01", &op, None)
        .await;
    assert_eq!(progress["data"]["token"]["status"], "expired");

    // A re-issue replaces the VM's token: the old one dies, the new one works.
    let res = server
        .call_ok(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body("vm-revoke-01")),
        )
        .await;
    let fresh = res["data"]["token"].as_str().unwrap();
    assert_eq!(validate(&server, fresh, "vm-revoke-01").await.0, 200);
    refused(&validate(&server, &revocable, "vm-revoke-01").await, "not found");
}

#[tokio::test]
async fn access_follows_the_matrix_for_every_provisioning_route() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "acme", "api").await;
    let admin = server.user("root@example.com", "acme", "admin").await;
    let outsider = server.user("out@example.com", "other", "admin").await;
    let (_agent_id, agent) = server.paired_agent(&op, "matrix").await;
    let vm = "vm-access-01";
    let res = server
        .call_ok(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body(vm)),
        )
        .await;
    let token = res["data"]["token"].as_str().unwrap().to_owned();
    subscribe(&server, &op, 30, "active").await;
    assert_eq!(
        report(&server, &token, vm, "windows_installed", "completed").await.0,
        200
    );

    let owner_routes: [(&str, String, Option<Value>); 9] = [
        ("GET", format!("/api/v1/provisioning/progress/{vm}/events"), None),
        ("GET", "/api/v1/unattend-profiles".into(), None),
        (
            "POST",
            "/api/v1/unattend-profiles".into(),
            Some(json!({"name": "p", "config": full_config()})),
        ),
        (
            "PUT",
            "/api/v1/unattend-profiles/00000000-0000-4000-8000-000000000000".into(),
            Some(json!({"name": "q"})),
        ),
        (
            "DELETE",
            "/api/v1/unattend-profiles/00000000-0000-4000-8000-000000000000".into(),
            None,
        ),
        (
            "POST",
            "/api/v1/provisioning/generate-iso-payload".into(),
            Some(generate_body("vm-access-02")),
        ),
        ("GET", format!("/api/v1/provisioning/progress/{vm}"), None),
        ("GET", format!("/api/v1/provisioning/iso/{vm}"), None),
        ("POST", format!("/api/v1/provisioning/tokens/{vm}/revoke"), None),
    ];
    for (method, path, body) in &owner_routes {
        // No bearer: 401; an agent: 403 (matrix column A is "–").
        let req = client().request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            server.url(path),
        );
        let res = req.json(body.as_ref().unwrap_or(&json!({}))).send().await.unwrap();
        assert_eq!(res.status(), 401, "{method} {path} without a bearer");
        let (status, _) = server.call(method, path, &agent, body.clone()).await;
        assert_eq!(status, 403, "{method} {path} as an agent");
    }
    // Own scope even for admin/infra and other tenants: the owner's VM is invisible to them.
    for other in [&admin, &outsider] {
        let (status, progress) = server
            .call("GET", &format!("/api/v1/provisioning/progress/{vm}"), other, None)
            .await;
        assert_eq!(
            (status, &progress["data"]["events"], &progress["data"]["token"]),
            (200, &json!([]), &Value::Null)
        );
        let (status, _) = server
            .call("GET", &format!("/api/v1/provisioning/iso/{vm}"), other, None)
            .await;
        assert_eq!(status, 404);
        let revoked = server
            .call_ok("POST", &format!("/api/v1/provisioning/tokens/{vm}/revoke"), other, None)
            .await;
        assert_eq!(revoked["data"]["revoked"], false);
    }
    // Another plain user of the tenant cannot re-issue (and so kill) the owner's token.
    let mallory = server.user("mallory@example.com", "acme", "api").await;
    let (status, err) = server
        .call(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &mallory,
            Some(generate_body(vm)),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "{err}"
    );
    let objects = server.data_dir.join("objects/provisioning/acme").join(vm);
    assert_eq!(
        std::fs::read_dir(objects).unwrap().count(),
        1,
        "the refused ISO is not left behind"
    );
    assert_eq!(
        validate(&server, &token, vm).await.0,
        200,
        "nobody else could revoke it"
    );
    // The VM-facing routes are public, take bad bodies as 400 and ignore any bearer.
    let (status, err) = post_public(&server, "/api/v1/provisioning/validate-token", json!({"token": token})).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("PROVISIONING_INVALID_VALIDATE_BODY"))
    );
    for bad in [
        json!({"token": token, "vm_uuid": vm, "step": "", "status": "running"}),
        json!({"token": token, "vm_uuid": vm, "step": "x", "status": "done"}),
        json!({"token": token, "vm_uuid": vm, "step": "x", "status": "running", "details": [1]}),
    ] {
        let (status, err) = post_public(&server, "/api/v1/provisioning/report-progress", bad).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some("PROVISIONING_INVALID_REPORT_BODY"))
        );
    }
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/provisioning/validate-token",
            &agent,
            Some(json!({"token": token, "vm_uuid": vm})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, err) = server.call("GET", "/api/v1/provisioning/progress/x", &op, None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("PROVISIONING_INVALID_VM_UUID"))
    );
}

/// Reads an event stream until `want` finds what it waits for in the text so far.
async fn read_until(res: &mut reqwest::Response, seen: &mut String, want: impl Fn(&str) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !want(seen) {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("timed out; the stream so far:\n{seen}"))
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn progress_is_pushed_to_the_owner_as_server_sent_events() {
    let server = TestServer::start().await;
    let op = server.user("op@example.com", "default", "api").await;
    let other = server.user("other@example.com", "default", "api").await;
    let vm = "vm-stream-01";
    let res = server
        .call_ok(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body(vm)),
        )
        .await;
    let token = res["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(
        report(&server, &token, vm, "windows_installed", "completed").await.0,
        200
    );

    let url = server.url(&format!("/api/v1/provisioning/progress/{vm}/events"));
    let mut stream = client().get(&url).bearer_auth(&op).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut seen = String::new();
    read_until(&mut stream, &mut seen, |s| s.contains("windows_installed")).await;
    assert!(seen.contains("event: vm-setup-progress"), "{seen}");
    // A report made while the stream is open arrives on it.
    assert_eq!(report(&server, &token, vm, "downloader_ready", "running").await.0, 200);
    read_until(&mut stream, &mut seen, |s| s.contains("downloader_ready")).await;
    let data: Value = seen
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .next_back()
        .unwrap();
    assert_eq!(
        (data["step"].as_str(), data["status"].as_str(), data["vm_uuid"].as_str()),
        (Some("downloader_ready"), Some("running"), Some(vm))
    );
    let last_id: i64 = seen
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next_back()
        .unwrap()
        .parse()
        .unwrap();

    // Resuming after the last id skips what was seen.
    assert_eq!(report(&server, &token, vm, "app_downloaded", "completed").await.0, 200);
    let mut resumed = client()
        .get(&url)
        .bearer_auth(&op)
        .header("last-event-id", last_id.to_string())
        .send()
        .await
        .unwrap();
    let mut again = String::new();
    read_until(&mut resumed, &mut again, |s| s.contains("app_downloaded")).await;
    assert!(
        !again.contains("downloader_ready") && !again.contains("windows_installed"),
        "{again}"
    );

    // Another user's stream of the same VM stays empty.
    let mut theirs = client().get(&url).bearer_auth(&other).send().await.unwrap();
    let mut quiet = String::new();
    read_until(&mut theirs, &mut quiet, |s| s.contains("connected")).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(500), theirs.chunk())
            .await
            .is_err(),
        "nothing for a stranger"
    );
}

/// Uploads `bytes` as release 1.0.0 of `module` (windows, stable) and assigns it as the
/// tenant default; returns the release id.
async fn publish(server: &TestServer, admin: &str, module: &str, bytes: &[u8]) -> i64 {
    use sha2::{Digest, Sha256};
    let url = server.url(&format!(
        "/api/v1/artifacts/releases/upload?module={module}&platform=windows&version=1.0.0&sha256={}&size_bytes={}",
        hex::encode(Sha256::digest(bytes)),
        bytes.len()
    ));
    let res = client()
        .post(url)
        .bearer_auth(admin)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["data"]["id"].as_i64().unwrap();
    let (status, body) = server
        .call(
            "POST",
            "/api/v1/artifacts/assign",
            admin,
            Some(json!({ "module": module, "platform": "windows", "release_id": id })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    id
}

#[tokio::test]
async fn validation_links_the_assigned_downloader_and_runner_setup() {
    use sha2::{Digest, Sha256};
    let server = TestServer::start().await;
    let admin = server.setup_admin().await;
    let op = server.user("op@example.com", "default", "api").await;
    let vm = "4c4c4544-0042-3510-8052-b4c04f4e3399";
    let res = server
        .call_ok(
            "POST",
            "/api/v1/provisioning/generate-iso-payload",
            &op,
            Some(generate_body(vm)),
        )
        .await;
    let token = res["data"]["token"].as_str().unwrap().to_owned();
    subscribe(&server, &op, 30, "active").await;

    // Only the downloader published: its link alone.
    let downloader: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let setup: Vec<u8> = (0..150_001u32).map(|i| (i * 17 % 241) as u8).collect();
    publish(&server, &admin, "bootstrap-downloader", &downloader).await;
    let (status, valid) = validate(&server, &token, vm).await;
    assert_eq!(status, 200, "{valid}");
    assert!(
        valid["data"]["bootstrap_url"].is_string() && valid["data"]["app_url"].is_null(),
        "{valid}"
    );

    publish(&server, &admin, "winsible-setup", &setup).await;
    let (status, valid) = validate(&server, &token, vm).await;
    assert_eq!(status, 200, "{valid}");
    for (field, bytes) in [("bootstrap_url", &downloader), ("app_url", &setup)] {
        let url = valid["data"][field]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {valid}"));
        assert!(url.contains("expires=") && url.contains("sig="), "{url}");
        let res = client().get(url).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{field}");
        let got = res.bytes().await.unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&got)),
            hex::encode(Sha256::digest(bytes)),
            "{field}"
        );
        // Range-capable, like every artifact download.
        let part = client().get(url).header("range", "bytes=0-9").send().await.unwrap();
        assert_eq!(part.status().as_u16(), 206);
        assert_eq!(&part.bytes().await.unwrap()[..], &bytes[..10]);
        // A tampered signature is refused.
        let bad = client().get(url.replace("sig=", "sig=00")).send().await.unwrap();
        assert_eq!(bad.status().as_u16(), 403, "{field}");
    }

    // Each link issued and each download is in the download audit.
    let (status, audit) = server
        .call("GET", "/api/v1/artifacts/download-audit?limit=500", &admin, None)
        .await;
    assert_eq!(status, 200, "{audit}");
    let rows = audit["data"].as_array().unwrap();
    let count = |event: &str| rows.iter().filter(|r| r["event_type"] == event).count();
    assert_eq!(count("provisioning_link"), 3, "{audit}");
    assert!(count("download_served") >= 4, "{audit}");
}
