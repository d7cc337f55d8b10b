//! Request bodies are read as a stream and refused with 413 `payload_too_large` as soon as they
//! pass the 8 KiB limit, also when no `Content-Length` announces their size (chunked).
//!
//! Bodies without `Content-Length` are sent two ways: through ureq from a reader (which it sends
//! chunked; [`ureq_sends_a_reader_body_chunked_without_content_length`] checks that on the wire,
//! against a listener of this test), and written by hand on a TCP socket, to show the refusal
//! comes while the body is still being sent (the Worker keeps nothing past the limit and reads
//! the rest only to throw it away, for at most a second: `api::read_body_within`). Every test
//! that follows a refused body also shows the server still answers at once.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use common::{app, random_slug, Resp, User};
use serde_json::{json, Value};

/// The limit the Worker enforces (`api::MAX_BODY_BYTES`).
const LIMIT: usize = 8 * 1024;

/// POSTs `body` to `/api/links` from a reader, so ureq sends it chunked (no Content-Length).
fn post_chunked(user: &User, body: Vec<u8>) -> Result<Resp, String> {
    let result = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(60))
        .build()
        .post(&app().url("/api/links"))
        .set("Authorization", &format!("Bearer {}", user.api_key))
        .set("Content-Type", "application/json")
        .send(std::io::Cursor::new(body));
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(e)) => return Err(e.to_string()),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| Some((n.clone(), resp.header(&n)?.to_owned())))
        .collect();
    let body = resp.into_string().map_err(|e| e.to_string())?;
    Ok(Resp {
        method: "POST".into(),
        path: "/api/links".into(),
        status,
        headers,
        body,
    })
}

/// A link-create body whose title makes it `size` bytes long.
fn create_body(slug: &str, size: usize) -> Vec<u8> {
    let head = json!({ "url": "https://example.com/body", "slug": slug, "title": "" }).to_string();
    let pad = size.saturating_sub(head.len());
    head.replacen(
        r#""title":"""#,
        &format!(r#""title":"{}""#, "a".repeat(pad)),
        1,
    )
    .into_bytes()
}

#[test]
fn ureq_sends_a_reader_body_chunked_without_content_length() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/api/links", listener.local_addr().expect("addr"));
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("read head");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .expect("answer");
        head.to_ascii_lowercase()
    });
    let _ = ureq::post(&url).send(std::io::Cursor::new(vec![b'x'; 100]));
    let head = server.join().expect("listener thread");
    assert!(
        head.contains("transfer-encoding: chunked"),
        "a reader body goes chunked: {head}"
    );
    assert!(
        !head.contains("content-length"),
        "no Content-Length went out: {head}"
    );
}

#[test]
fn a_chunked_body_of_1_mib_is_413_and_writes_nothing() {
    let user = app().new_user();
    let slug = random_slug();
    let body = create_body(&slug, 1024 * 1024);
    assert_eq!(body.len(), 1024 * 1024);
    assert!(serde_json::from_slice::<Value>(&body).is_ok(), "valid JSON");
    post_chunked(&user, body)
        .expect("the Worker reads (and throws away) the rest of the body before answering")
        .assert_error(413, "payload_too_large");
    app().assert_no_link(&user, &slug);
}

#[test]
fn a_chunked_body_just_over_the_limit_is_413_and_one_at_the_limit_is_read() {
    let user = app().new_user();
    let slug = random_slug();
    post_chunked(&user, create_body(&slug, LIMIT + 1))
        .expect("a small upload is sent whole")
        .assert_error(413, "payload_too_large");
    app().assert_no_link(&user, &slug);

    let body = create_body(&slug, LIMIT);
    assert_eq!(body.len(), LIMIT);
    // The title is then too long for a link (400), which shows the body was read and parsed.
    let resp = post_chunked(&user, body).expect("sent");
    assert_ne!(resp.status, 413, "{}", resp.body);
}

#[test]
fn a_small_chunked_body_creates_the_link() {
    let user = app().new_user();
    let slug = random_slug();
    let body = json!({ "url": "https://example.com/chunked", "slug": slug }).to_string();
    let resp = post_chunked(&user, body.into_bytes()).expect("sent");
    resp.assert_status(201);
    assert_eq!(resp.json()["slug"], json!(slug));
    let location = app().get_no_redirect(&format!("/{slug}"));
    location.assert_status(302);
    assert_eq!(location.location(), Some("https://example.com/chunked"));
}

/// Sends the head and `LIMIT * 2` bytes of a chunked body by hand, without its last chunk, and
/// reads the answer while the body is still open: the Worker must not wait for the end.
#[test]
fn a_chunked_body_is_refused_before_it_ends() {
    let user = app().new_user();
    let slug = random_slug();
    let mut stream = TcpStream::connect(("127.0.0.1", app().port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let head = format!(
        "POST /api/links HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        app().port,
        user.api_key
    );
    stream.write_all(head.as_bytes()).expect("head");
    let body = create_body(&slug, LIMIT * 4);
    for chunk in body[..LIMIT * 2].chunks(1024) {
        stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .expect("chunk size");
        stream.write_all(chunk).expect("chunk");
        stream.write_all(b"\r\n").expect("chunk end");
    }
    stream.flush().expect("flush");
    // No terminating chunk: the body has not ended.
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "no answer while the body was still open (the Worker waited for its end): {e}; \
                 read so far: {:?}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "413 before the body ended: {answer}"
    );
    drop(stream);
    app().assert_no_link(&user, &slug);
}
