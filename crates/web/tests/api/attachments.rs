//! Files: upload, attach to a message, download by those who may see it.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Auth, TestApp, customer};

on_both_backends!(upload_attach_download);

async fn upload(app: &TestApp, auth: &Auth, name: &str, bytes: Vec<u8>) -> crate::support::Reply {
    TestApp::send(
        app.request(Method::POST, "/attachments", auth)
            .query(&[("file_name", name)])
            .header("content-type", "text/plain")
            .body(bytes),
    )
    .await
}

async fn upload_attach_download(app: TestApp) {
    let (_, ann) = customer(&app.store, "ann@example.com", None).await;
    let (_, eve) = customer(&app.store, "eve@example.com", None).await;
    let up = upload(&app, &ann, "../../etc/log.txt", b"line one\nline two".to_vec()).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    assert_eq!(up.body["file_name"], "log.txt", "no path in file names");
    let file = up.body["id"].as_i64().unwrap();
    // Someone else cannot attach it.
    let theft = app.post("/tickets", &eve, json!({ "subject": "x", "body": "x", "attachment_ids": [file] })).await;
    assert_eq!(theft.status, StatusCode::UNPROCESSABLE_ENTITY);
    let t = app
        .post("/tickets", &ann, json!({ "subject": "Logs", "body": "see attached", "attachment_ids": [file] }))
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    assert_eq!(t.body["messages"][0]["attachments"][0]["id"], file);
    let path = format!("/attachments/{file}");
    for (who, status) in [(&ann, StatusCode::OK), (&app.admin, StatusCode::OK), (&eve, StatusCode::NOT_FOUND)] {
        let r = app.request(Method::GET, &path, who).send().await.unwrap();
        assert_eq!(r.status(), status);
        if status == StatusCode::OK {
            assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"log.txt\"");
            assert_eq!(r.text().await.unwrap(), "line one\nline two");
        }
    }
    let big = upload(&app, &ann, "big.bin", vec![0u8; 300 * 1024]).await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let empty = upload(&app, &ann, "empty.txt", vec![]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
}
