//! `switchboard bench mail`: email in and out of a real `serve` process.
//! Inbound: mixed raw messages (new tickets, replies by In-Reply-To, HTML
//! with an inline image, attachments, a few unparseable) pushed to
//! `POST /inbound/email`: parse, thread and store, end to end. Outbound:
//! agents' replies through the API, sent from the outbox to a local SMTP
//! sink in this process; mails per second from the first reply to the last
//! mail received.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::bench::{Api, load, ms, rss_mib, start_server_with};
use crate::config::Config;

/// Counts the mails an SMTP client hands it; accepts everything.
async fn smtp_sink(received: Arc<AtomicU64>) -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let received = received.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                if write.write_all(b"220 sink\r\n").await.is_err() {
                    return;
                }
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let answer: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        received.fetch_add(1, Ordering::Relaxed);
                        b"250 queued\r\n"
                    } else {
                        match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                            Some("DATA") => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            Some("QUIT") => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 ok\r\n",
                        }
                    };
                    if write.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

/// The `i`th message of the mix: mostly new tickets, replies to earlier
/// ones, some HTML with an inline image, some attachments, 1% garbage.
fn message(i: u64) -> String {
    let customer = i % 500;
    let from = format!("Customer {customer} <c{customer}@bench.test>");
    let id = format!("m{i}@bench.test");
    match i % 100 {
        0 => format!("this is not mail at all ({i})"),
        1..=30 if i >= 100 => {
            let parent = i - 100;
            format!(
                "From: {from}\r\nTo: support@bench.test\r\nSubject: Re: question {parent}\r\nMessage-ID: <{id}>\r\n\
                 In-Reply-To: <m{parent}@bench.test>\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n\r\n\
                 Thanks, but it still fails.\r\n\r\nOn Monday you wrote:\r\n> Please try again.\r\n"
            )
        }
        31..=40 => format!(
            "From: {from}\r\nTo: support@bench.test\r\nSubject: question {i}\r\nMessage-ID: <{id}>\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\n\
             Content-Type: text/html; charset=utf-8\r\n\r\n<p>See the <b>screenshot</b>:</p><img src=\"cid:shot\">\
             <script>alert(1)</script>\r\n--b\r\nContent-Type: image/png\r\nContent-ID: <shot>\r\n\
             Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\r\n--b--\r\n"
        ),
        41..=50 => format!(
            "From: {from}\r\nTo: support@bench.test\r\nSubject: question {i}\r\nMessage-ID: <{id}>\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
             Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nThe invoice is attached. Gr=FC=DFe\r\n--b\r\n\
             Content-Type: application/pdf; name=\"invoice-{i}.pdf\"\r\nContent-Disposition: attachment; filename=\"invoice-{i}.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
            "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK".repeat(40)
        ),
        _ => format!(
            "From: {from}\r\nTo: support@bench.test\r\nSubject: question {i}\r\nMessage-ID: <{id}>\r\n\
             Date: Mon, 23 Nov 2026 08:00:00 +0000\r\n\r\nHello, the export of report {i} fails with error 500 \
             since this morning. Could you have a look?\r\n\r\n-- \r\nCustomer {customer}\r\n"
        ),
    }
}

pub async fn mail(config: Config, messages: u64, replies: u64) -> Result<(), String> {
    let dir: PathBuf = std::env::temp_dir().join(format!("switchboard-bench-mail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let backend = if config.database_url.is_some() { "PostgreSQL" } else { "SQLite" };
    println!(
        "switchboard bench mail: {backend}, {} cores",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    let received = Arc::new(AtomicU64::new(0));
    let port = smtp_sink(received.clone()).await?;
    let env = [("SWITCHBOARD_SMTP_URL", format!("smtp://127.0.0.1:{port}"))];
    let server = start_server_with(&dir, config.database_url.as_deref(), &env).await?;
    let pid = server.child.id().ok_or("server has no pid")?;
    let api = Arc::new(Api::sign_in(&server, &config.admin_email).await?);
    let made = api
        .call(reqwest::Method::POST, "/mailboxes", Some(json!({ "address": "support@bench.test", "name": "Support" })))
        .await?;
    let push_token = made["push_token"].as_str().ok_or("no push token")?.to_string();

    // Inbound through the push endpoint, 8 concurrent senders.
    println!();
    println!(
        "{:<40} {:>10} {:>9} {:>9} {:>9}",
        "inbound (POST /inbound/email)", "per second", "p50 ms", "p99 ms", "RSS MiB"
    );
    let (http, base) = (api.http.clone(), api.base.clone());
    let (h, wall) = load(8, messages, move |i| {
        let (http, base, token) = (http.clone(), base.clone(), push_token.clone());
        async move {
            let r = http
                .post(format!("{base}/api/v1/inbound/email"))
                .bearer_auth(token)
                .header("content-type", "message/rfc822")
                .body(message(i))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            match r.status().as_u16() {
                200..=202 => Ok(()),
                s => Err(format!("message {i}: {s} {}", r.text().await.unwrap_or_default())),
            }
        }
    })
    .await?;
    println!(
        "{:<40} {:>10.0} {:>9.2} {:>9.2} {:>9.1}",
        format!("  {messages} mixed messages, 8 senders"),
        messages as f64 / wall.as_secs_f64(),
        ms(&h, 0.5),
        ms(&h, 0.99),
        rss_mib(pid)
    );
    let tickets = api.call(reqwest::Method::GET, "/tickets?limit=100", None).await?;
    let quarantined = api.call(reqwest::Method::GET, "/mail/quarantine?limit=1000", None).await?;
    println!(
        "  stored: newest ticket #{}, {} in the quarantine",
        tickets["tickets"][0]["id"].as_i64().unwrap_or_default(),
        quarantined["entries"].as_array().map(Vec::len).unwrap_or_default()
    );

    // Outbound: replies through the API, mailed from the outbox.
    let ids: Arc<Vec<i64>> = Arc::new({
        let mut ids = Vec::new();
        let mut path = "/tickets?limit=100".to_string();
        while (ids.len() as u64) < replies {
            let page = api.call(reqwest::Method::GET, &path, None).await?;
            ids.extend(page["tickets"].as_array().into_iter().flatten().filter_map(|t| t["id"].as_i64()));
            // `next` is absolute: keep what follows /api/v1.
            match page["links"]["next"].as_str().and_then(|n| n.split("/api/v1").nth(1)) {
                Some(next) => path = next.to_string(),
                None => break,
            }
        }
        ids.truncate(replies as usize);
        ids
    });
    if ids.is_empty() {
        return Err("no tickets to reply to".into());
    }
    let replies = ids.len() as u64;
    let before = received.load(Ordering::Relaxed);
    let started = Instant::now();
    let api2 = api.clone();
    let (h, api_wall) = load(8, replies, move |i| {
        let (api, ids) = (api2.clone(), ids.clone());
        async move {
            let id = ids[i as usize];
            api.call(
                reqwest::Method::POST,
                &format!("/tickets/{id}/messages"),
                Some(json!({ "body": "We fixed it; please try again." })),
            )
            .await
            .map(|_| ())
        }
    })
    .await?;
    let deadline = Instant::now() + Duration::from_secs(600);
    while received.load(Ordering::Relaxed) < before + replies && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mailed = received.load(Ordering::Relaxed) - before;
    let wall = started.elapsed();
    println!();
    println!("{:<40} {:>10} {:>9} {:>9}", "outbound (reply → outbox → SMTP)", "per second", "p50 ms", "p99 ms");
    println!(
        "{:<40} {:>10.0} {:>9.2} {:>9.2}",
        format!("  {replies} replies through the API"),
        replies as f64 / api_wall.as_secs_f64(),
        ms(&h, 0.5),
        ms(&h, 0.99)
    );
    println!(
        "{:<40} {:>10.0}   ({mailed} of {replies} received in {:.1} s)",
        "  mailed to the local SMTP sink",
        mailed as f64 / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!("server RSS after the run: {:.1} MiB", rss_mib(pid));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
