//! A minimal blocking HTTP/1.1 client for end-to-end tests, over `std::net::TcpStream` (no extra crates).
//!
//! One request per connection (`Connection: close`); the response is read whole, with its body framed
//! by `Content-Length`, `Transfer-Encoding: chunked`, or the end of the connection. Plain `http://`
//! only: the tests talk to a server on loopback.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long connecting, or waiting for any read or write, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A whole HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The header fields in the order received (names as sent by the server).
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
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
    let (authority, path) = split_url(url)?;
    let address = authority
        .to_socket_addrs()
        .map_err(|e| format!("resolve {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT).map_err(|e| format!("connect {address}: {e}"))?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;

    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if let Some(body) = body {
        if !has("content-length") {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
    } else if matches!(method, "POST" | "PUT" | "PATCH") && !has("content-length") {
        head.push_str("Content-Length: 0\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut message = head.into_bytes();
    message.extend_from_slice(body.unwrap_or_default());
    stream.write_all(&message).map_err(|e| format!("send: {e}"))?;
    stream.flush().map_err(|e| format!("send: {e}"))?;

    read_response(BufReader::new(stream), method == "HEAD")
}

/// Splits `http://host:port/path?query` into (`host:port`, `/path?query`).
fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("not an http:// URL: {url}"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() {
        return Err(format!("no host in URL: {url}"));
    }
    let authority = if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
    Ok((authority, path))
}

/// Reads a response (skipping any 1xx interim ones) and its body.
fn read_response<R: BufRead>(mut reader: R, head_only: bool) -> Result<Response, String> {
    loop {
        let status_line = read_line(&mut reader)?;
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(format!("bad status line: {status_line:?}"));
        }
        let status: u16 =
            parts.next().and_then(|s| s.parse().ok()).ok_or_else(|| format!("bad status line: {status_line:?}"))?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(&mut reader)?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or_else(|| format!("bad header line: {line:?}"))?;
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        if (100..200).contains(&status) {
            continue;
        }
        let mut response = Response { status, headers, body: Vec::new() };
        if head_only || status == 204 || status == 304 {
            return Ok(response);
        }
        let chunked = response
            .header("transfer-encoding")
            .is_some_and(|te| te.split(',').any(|c| c.trim().eq_ignore_ascii_case("chunked")));
        response.body = if chunked {
            read_chunked(&mut reader)?
        } else if let Some(length) = response.header("content-length") {
            let length: usize = length.parse().map_err(|_| format!("bad Content-Length: {length:?}"))?;
            let mut body = vec![0; length];
            reader.read_exact(&mut body).map_err(|e| format!("read body ({length} bytes): {e}"))?;
            body
        } else {
            let mut body = Vec::new();
            reader.read_to_end(&mut body).map_err(|e| format!("read body: {e}"))?;
            body
        };
        return Ok(response);
    }
}

/// Reads a chunked body and its trailer.
fn read_chunked<R: BufRead>(reader: &mut R) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| format!("bad chunk size line: {line:?}"))?;
        if size == 0 {
            // Trailer fields, up to an empty line.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).map_err(|e| format!("read chunk ({size} bytes): {e}"))?;
        if !read_line(reader)?.is_empty() {
            return Err("chunk not followed by CRLF".to_string());
        }
    }
}

/// One line without its CRLF (or LF). Err at the end of the stream.
fn read_line<R: BufRead>(reader: &mut R) -> Result<String, String> {
    let mut line = Vec::new();
    let n = reader.read_until(b'\n', &mut line).map_err(|e| format!("read: {e}"))?;
    if n == 0 {
        return Err("connection closed before the response was complete".to_string());
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| "response head is not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
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
    fn content_length_response_and_json_request() {
        let (url, server) = serve_once(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Thing: a b\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
        );
        let response = post_json(&format!("{url}/v1/things?x=1"), &serde_json::json!({"a": 1}), &[("X-Req", "yes")]);
        assert_eq!(response.status, 201);
        assert_eq!(response.header("x-thing"), Some("a b"));
        assert_eq!(response.header("CONTENT-TYPE"), Some("application/json"));
        assert_eq!(response.json(), serde_json::json!({"ok": true}));
        let request = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(request.starts_with("POST /v1/things?x=1 HTTP/1.1\r\n"), "{request}");
        assert!(request.contains("\r\nConnection: close\r\n"), "{request}");
        assert!(request.contains("\r\nContent-Length: 7\r\n"), "{request}");
        assert!(request.contains("\r\nContent-Type: application/json\r\n"), "{request}");
        assert!(request.contains("\r\nX-Req: yes\r\n"), "{request}");
        assert!(request.ends_with("\r\n\r\n{\"a\":1}"), "{request}");
    }

    #[test]
    fn chunked_response_with_interim_100() {
        let (url, server) = serve_once(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
        );
        let response = get(&format!("{url}/healthz"));
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), "hello, world");
        let request = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(request.starts_with("GET /healthz HTTP/1.1\r\n"), "{request}");
    }

    #[test]
    fn body_until_close_and_empty_path() {
        let (url, server) = serve_once(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\nlater");
        let response = get(&url);
        assert_eq!(response.status, 503);
        assert_eq!(response.header("retry-after"), Some("1"));
        assert_eq!(response.body, b"later");
        let request = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(request.starts_with("GET / HTTP/1.1\r\n"), "{request}");
    }

    #[test]
    fn truncated_response_is_an_error() {
        let (url, server) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        let error = try_request("GET", &url, &[], None).unwrap_err();
        assert!(error.contains("read body"), "{error}");
        server.join().unwrap();
    }

    #[test]
    fn bad_urls_are_errors() {
        assert!(split_url("https://x/").is_err());
        assert!(split_url("http:///x").is_err());
        assert_eq!(split_url("http://h:1/a?b").unwrap(), ("h:1".to_string(), "/a?b".to_string()));
        assert_eq!(split_url("http://h?q=1").unwrap(), ("h:80".to_string(), "/?q=1".to_string()));
    }
}
