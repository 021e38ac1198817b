//! A blocking HTTP client for end-to-end tests, on reqwest (plain `http://`, no TLS: the tests talk to
//! a server on loopback). The helpers keep the shape the suites were written against: whole
//! responses, panics that name the request.
//!
//! Like the suites' old hand-written HTTP/1.1 client, each request opens its own connection (no
//! pool: a server a test restarts never meets a stale pooled connection), follows no redirect and
//! ignores proxy variables.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::blocking::Client;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request (send and read the response) may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A whole HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The header fields in the order received (names in lowercase).
    pub headers: Vec<(String, String)>,
    /// The body, decoded from its transfer framing.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON; panics, showing status and body, when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("response {} is not JSON ({e}): {}", self.status, String::from_utf8_lossy(&self.body))
        })
    }

    /// The body as text (lossy UTF-8), for assertions and messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET url`.
pub fn get(url: &str) -> Response {
    request("GET", url, &[], None)
}

/// `POST url` with `value` as a JSON body (`Content-Type: application/json`) and extra `headers`.
pub fn post_json(url: &str, value: &serde_json::Value, headers: &[(&str, &str)]) -> Response {
    let body = serde_json::to_vec(value).expect("serialize JSON body");
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    request("POST", url, &all, Some(&body))
}

/// Sends one request and reads the whole response. Panics on a bad URL, an IO error, a timeout or a
/// malformed response: this is test support, and a panic names what went wrong.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Response {
    try_request(method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// Like [`request`], returning the error instead of panicking (e.g. to poll a server that is starting).
pub fn try_request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Result<Response, String> {
    if !url.starts_with("http://") {
        return Err(format!("not an http:// URL: {url}"));
    }
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| format!("bad method {method:?}: {e}"))?;
    let mut builder = client().request(method, url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if let Some(body) = body {
        builder = builder.body(body.to_vec());
    }
    let response = builder.send().map_err(|e| error_chain(&e))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = response.bytes().map_err(|e| format!("read body: {}", error_chain(&e)))?.to_vec();
    Ok(Response { status, headers, body })
}

/// The one client of the test process (its runtime thread lives as long as the process).
fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("build the test HTTP client")
    })
}

/// An error with its causes ("error sending request: connection refused"), for test messages.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::thread::JoinHandle;

    /// Serves one connection with `reply` and hands back the request it read (head and body).
    fn serve_once(reply: &'static [u8]) -> (String, JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut request = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                request.extend_from_slice(line.as_bytes());
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            request.extend_from_slice(&body);
            let mut stream = reader.into_inner();
            stream.write_all(reply).unwrap();
            request
        });
        (url, handle)
    }

    #[test]
    fn json_request_and_response_headers() {
        let (url, server) = serve_once(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Thing: a b\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
        );
        let response = post_json(&format!("{url}/v1/things?x=1"), &serde_json::json!({"a": 1}), &[("X-Req", "yes")]);
        assert_eq!(response.status, 201);
        assert_eq!(response.header("x-thing"), Some("a b"));
        assert_eq!(response.header("CONTENT-TYPE"), Some("application/json"));
        assert_eq!(response.json(), serde_json::json!({"ok": true}));
        let request = String::from_utf8(server.join().unwrap()).unwrap().to_ascii_lowercase();
        assert!(request.starts_with("post /v1/things?x=1 http/1.1\r\n"), "{request}");
        assert!(request.contains("\r\ncontent-length: 7\r\n"), "{request}");
        assert!(request.contains("\r\ncontent-type: application/json\r\n"), "{request}");
        assert!(request.contains("\r\nx-req: yes\r\n"), "{request}");
        assert!(request.ends_with("\r\n\r\n{\"a\":1}"), "{request}");
    }

    #[test]
    fn chunked_response() {
        let (url, server) =
            serve_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n");
        let response = get(&format!("{url}/healthz"));
        assert_eq!((response.status, response.text().as_str()), (200, "hello, world"));
        server.join().unwrap();
    }

    #[test]
    fn no_redirect_is_followed() {
        let (url, server) = serve_once(b"HTTP/1.1 303 See Other\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n");
        let response = get(&url);
        assert_eq!((response.status, response.header("location")), (303, Some("/elsewhere")));
        server.join().unwrap();
    }

    #[test]
    fn errors_name_what_went_wrong() {
        let (url, server) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        let error = try_request("GET", &url, &[], None).unwrap_err();
        assert!(error.contains("read body"), "{error}");
        server.join().unwrap();
        assert!(try_request("GET", "https://127.0.0.1:1/", &[], None).unwrap_err().contains("http://"));
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert!(try_request("GET", &format!("http://127.0.0.1:{port}/"), &[], None).is_err(), "nothing listens");
    }
}
