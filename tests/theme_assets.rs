//! Theme background images: presign, signed upload, complete, signed image, delete.

mod common;

use common::*;
use serde_json::json;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nfake image body";

#[tokio::test]
async fn an_image_goes_through_presign_upload_complete_and_delete() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;

    for (body, field) in [
        (
            json!({ "filename": "a.png", "mime_type": "image/gif", "size_bytes": 10 }),
            "mime_type",
        ),
        (
            json!({ "filename": "a.png", "mime_type": "image/png", "size_bytes": 30_000_000 }),
            "size_bytes",
        ),
        (json!({ "mime_type": "image/png", "size_bytes": 10 }), "filename"),
    ] {
        let (status, res) = server
            .call("POST", "/api/v1/theme-assets/presign-upload", &t, Some(body.clone()))
            .await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("THEME_ASSET_INVALID_PRESIGN_BODY")),
            "{body}"
        );
        assert!(
            res["error"]["details"]["fieldErrors"][field].is_array(),
            "{body}: {res}"
        );
    }

    let body = json!({ "filename": "My Sunset.PNG", "mime_type": "image/png", "size_bytes": PNG.len() });
    let (status, presigned) = server
        .call("POST", "/api/v1/theme-assets/presign-upload", &t, Some(body))
        .await;
    assert_eq!(status, 201, "{presigned}");
    let p = &presigned["data"];
    let id = p["asset_id"].as_str().unwrap();
    assert_eq!(p["object_key"], format!("theme-assets/acme/{id}-my-sunset.png"));
    assert_eq!(p["expires_in_seconds"], 600);
    let upload_url = server.url(p["upload_url"].as_str().unwrap());

    // Completing before the upload is a conflict; the list shows it pending, without a URL.
    let (status, res) = server
        .call(
            "POST",
            "/api/v1/theme-assets/complete",
            &t,
            Some(json!({ "asset_id": id })),
        )
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (409, Some("ASSET_NOT_UPLOADED"))
    );
    let list = server.call_ok("GET", "/api/v1/theme-assets", &t, None).await;
    assert_eq!(
        (
            list["data"]["items"][0]["status"].as_str(),
            list["data"]["items"][0]["image_url"].is_null()
        ),
        (Some("pending"), true)
    );

    let put = |url: String, ctype: &'static str, bytes: Vec<u8>| {
        client().put(url).header("content-type", ctype).body(bytes).send()
    };
    let tampered = upload_url.replace("sig=", "sig=00");
    assert_eq!(put(tampered, "image/png", PNG.to_vec()).await.unwrap().status(), 403);
    assert_eq!(
        put(upload_url.clone(), "image/jpeg", PNG.to_vec())
            .await
            .unwrap()
            .status(),
        415
    );
    let res = put(upload_url.clone(), "image/png", b"GIF89a not a png".to_vec())
        .await
        .unwrap();
    assert_eq!(json_of(res, 400).await["error"]["code"], "THEME_ASSET_INVALID_UPLOAD");
    let mut too_big = PNG.to_vec();
    too_big.push(0);
    assert_eq!(
        put(upload_url.clone(), "image/png", too_big).await.unwrap().status(),
        413
    );
    let res = put(upload_url.clone(), "image/png", PNG.to_vec()).await.unwrap();
    assert_eq!(res.status(), 200);

    let (status, done) = server
        .call(
            "POST",
            "/api/v1/theme-assets/complete",
            &t,
            Some(json!({ "asset_id": id, "width": 1920, "height": 1080 })),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["data"]["status"].as_str(), done["data"]["width"].as_i64()),
        (Some("ready"), Some(1920))
    );
    let image_url = server.url(done["data"]["image_url"].as_str().unwrap());
    let image = client().get(&image_url).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().as_ref(), PNG);
    // A download link cannot be used to upload.
    assert_eq!(
        put(image_url.clone(), "image/png", PNG.to_vec())
            .await
            .unwrap()
            .status(),
        403
    );

    // Another tenant sees nothing and cannot complete or delete it.
    let rival = server.user("rival@example.com", "rival", "api").await;
    let theirs = server.call_ok("GET", "/api/v1/theme-assets", &rival, None).await;
    assert_eq!(theirs["data"]["items"], json!([]));
    let (status, _) = server
        .call(
            "POST",
            "/api/v1/theme-assets/complete",
            &rival,
            Some(json!({ "asset_id": id })),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .call("DELETE", &format!("/api/v1/theme-assets/{id}"), &rival, None)
        .await;
    assert_eq!(status, 404);

    let (status, deleted) = server
        .call("DELETE", &format!("/api/v1/theme-assets/{id}"), &t, None)
        .await;
    assert_eq!((status, deleted["data"]["status"].as_str()), (200, Some("deleted")));
    let (status, res) = server
        .call("DELETE", &format!("/api/v1/theme-assets/{id}"), &t, None)
        .await;
    assert_eq!(
        (status, res["error"]["code"].as_str()),
        (404, Some("THEME_ASSET_NOT_FOUND"))
    );
    assert_eq!(client().get(&image_url).send().await.unwrap().status(), 404);
    let key = p["object_key"].as_str().unwrap();
    assert!(
        !server.data_dir.join("objects").join(key).exists(),
        "the file is removed"
    );
}

#[tokio::test]
async fn names_are_generated_per_race_deterministically_with_a_seed() {
    let server = TestServer::start().await;
    let t = server.user("ops@example.com", "acme", "api").await;
    let (status, res) = server
        .call(
            "GET",
            "/api/v1/wow-names?race=orc&gender=female&seed=7&batches=3",
            &t,
            None,
        )
        .await;
    assert_eq!(status, 200, "{res}");
    let names: Vec<&str> = res["data"]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 30);
    let unique: std::collections::HashSet<&&str> = names.iter().collect();
    assert_eq!(unique.len(), 30, "no duplicates");
    assert!(names.contains(&res["data"]["random"].as_str().unwrap()));
    let again = server
        .call_ok(
            "GET",
            "/api/v1/wow-names?race=orc&gender=female&seed=7&batches=3",
            &t,
            None,
        )
        .await;
    assert_eq!(again["data"], res["data"]);
    let counted = server
        .call_ok("GET", "/api/v1/wow-names?count=4&seed=1", &t, None)
        .await;
    assert_eq!(counted["data"]["names"].as_array().unwrap().len(), 4);
    assert!(counted["data"].get("random").is_none());
    for bad in [
        "count=0",
        "count=101",
        "batches=21",
        "race=murloc",
        "gender=x",
        "seed=-1",
    ] {
        let (status, res) = server.call("GET", &format!("/api/v1/wow-names?{bad}"), &t, None).await;
        assert_eq!(
            (status, res["error"]["code"].as_str()),
            (400, Some("WOW_NAMES_INVALID_QUERY")),
            "{bad}"
        );
    }
}
