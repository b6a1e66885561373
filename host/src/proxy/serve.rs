//! One client connection: SOCKS5 (first byte 5) or HTTP (CONNECT, or a plain
//! request with an absolute URI), checked, then spliced to the dialled address.

use super::resolve::shown;
use super::{rules, Shared};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;

const HEAD_MAX: usize = 32 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn connection(mut c: UnixStream, s: &Shared) {
    let _ = c.set_read_timeout(Some(Duration::from_secs(30)));
    let mut first = [0u8; 1];
    if c.read_exact(&mut first).is_err() {
        return;
    }
    if first[0] == 5 {
        socks5(c, s);
    } else {
        http(c, first[0], s);
    }
}

/// Checks and dials `host:port`, recording a refusal; `Err` is the reason.
fn open(s: &Shared, host: &str, port: u16) -> Result<TcpStream, String> {
    let host = rules::normalise(host);
    let target = shown(&host, port);
    let r = s.resolver.decide(&s.allow, &host, port).and_then(|addr| {
        TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
            .map_err(|e| format!("unreachable from the host ({addr}): {e}"))
    });
    match &r {
        Ok(up) => s.track(up),
        Err(why) => s.refuse(&target, why.clone()),
    }
    r
}

fn http(mut c: UnixStream, first: u8, s: &Shared) {
    let mut head = vec![first];
    let end = loop {
        if let Some(i) = find(&head, b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > HEAD_MAX {
            return reply(
                &mut c,
                "431 Request Header Fields Too Large",
                "request head too large",
            );
        }
        let mut buf = [0u8; 4096];
        match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let rest = head[end..].to_vec();
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, uri) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method.eq_ignore_ascii_case("CONNECT") {
        let Some((host, port)) = split_authority(uri, 443) else {
            return reply(&mut c, "400 Bad Request", "CONNECT needs host:port");
        };
        match open(s, &host, port) {
            Ok(up) => {
                if c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .is_err()
                {
                    return;
                }
                let h = rules::normalise(&host);
                if s.secrets.iter().any(|x| x.for_host(&h, port)) && rest.is_empty() {
                    // A tunnel may carry TLS (a handshake starts with byte 22) or, to an
                    // http:// server, plain HTTP (Node's proxy agents tunnel both).
                    if peek_byte(&c) != Some(22) {
                        return plain_in_tunnel(c, up, &h, port, s);
                    }
                    if let Err(why) = super::tls::intercept(c, up, &h, port, &s.secrets) {
                        s.refuse(
                            &shown(&h, port),
                            format!("TLS with the key added failed: {why}"),
                        );
                    }
                } else {
                    splice(c, up, &rest);
                }
            }
            Err(why) => reply(
                &mut c,
                "403 Forbidden",
                &format!("planexec: refused {uri}: {why}"),
            ),
        }
        return;
    }
    let Some(after) = uri.strip_prefix("http://") else {
        return reply(
            &mut c,
            "400 Bad Request",
            "planexec's proxy takes CONNECT or http:// URLs",
        );
    };
    let (authority, path) = after.split_at(after.find('/').unwrap_or(after.len()));
    let Some((host, port)) = split_authority(authority, 80) else {
        return reply(&mut c, "400 Bad Request", "bad host in the URL");
    };
    match open(s, &host, port) {
        Ok(mut up) => {
            let head = origin_form(&text, method, if path.is_empty() { "/" } else { path });
            let head =
                super::secrets::substitute(&head, &s.secrets, &rules::normalise(&host), port);
            if up.write_all(head.as_bytes()).is_ok() {
                splice(c, up, &rest);
            }
        }
        Err(why) => reply(
            &mut c,
            "403 Forbidden",
            &format!("planexec: refused {authority}: {why}"),
        ),
    }
}

/// The first byte the client will send, left in the socket.
fn peek_byte(c: &UnixStream) -> Option<u8> {
    use std::os::fd::AsRawFd;
    let mut b = [0u8; 1];
    // SAFETY: a one-byte recv into a buffer we own, on a descriptor `c` keeps open.
    let n = unsafe { libc::recv(c.as_raw_fd(), b.as_mut_ptr().cast(), 1, libc::MSG_PEEK) };
    (n == 1).then_some(b[0])
}

/// Plain HTTP inside a tunnel to a host a secret goes to: its first request head gets
/// the key (headers only) and `Connection: close`, so one tunnel carries one request.
fn plain_in_tunnel(mut c: UnixStream, mut up: TcpStream, host: &str, port: u16, s: &Shared) {
    let mut head = Vec::new();
    let end = loop {
        if let Some(i) = find(&head, b"\r\n\r\n") {
            break i + 4;
        }
        let mut buf = [0u8; 4096];
        match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) if head.len() + n <= HEAD_MAX => head.extend_from_slice(&buf[..n]),
            Ok(_) => {
                return reply(
                    &mut c,
                    "431 Request Header Fields Too Large",
                    "request head too large",
                )
            }
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut first = text.lines().next().unwrap_or_default().split(' ');
    let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or("/"));
    let out = origin_form(&text, method, path);
    let out = super::secrets::substitute(&out, &s.secrets, host, port);
    if up.write_all(out.as_bytes()).is_ok() {
        splice(c, up, &head[end..]);
    }
}

/// The request head in origin form, without proxy headers, closing after one exchange
/// (a kept-alive connection could carry a request for another host).
fn origin_form(head: &str, method: &str, path: &str) -> String {
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let version = first.rsplit(' ').next().unwrap_or("HTTP/1.1");
    let mut out = format!("{method} {path} {version}\r\n");
    for l in lines.filter(|l| !l.is_empty()) {
        let name = l
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if name.starts_with("proxy-") || name == "connection" || name == "keep-alive" {
            continue;
        }
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

fn split_authority(a: &str, default: u16) -> Option<(String, u16)> {
    if let Some(rest) = a.strip_prefix('[') {
        let (h, tail) = rest.split_once(']')?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default,
        };
        return Some((h.to_string(), port));
    }
    match a.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None if !a.is_empty() => Some((a.to_string(), default)),
        None => None,
    }
}

fn reply(c: &mut UnixStream, status: &str, body: &str) {
    let body = format!("{body}\n");
    let _ = write!(
        c,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn socks5(mut c: UnixStream, s: &Shared) {
    let mut n = [0u8; 1];
    if c.read_exact(&mut n).is_err() {
        return;
    }
    let mut methods = vec![0u8; n[0] as usize];
    if c.read_exact(&mut methods).is_err() || !methods.contains(&0) {
        let _ = c.write_all(&[5, 0xff]);
        return;
    }
    let mut req = [0u8; 4];
    if c.write_all(&[5, 0]).is_err() || c.read_exact(&mut req).is_err() {
        return;
    }
    let host = match req[3] {
        1 => read_n::<4>(&mut c).map(|a| std::net::Ipv4Addr::from(a).to_string()),
        4 => read_n::<16>(&mut c).map(|a| std::net::Ipv6Addr::from(a).to_string()),
        3 => read_n::<1>(&mut c).and_then(|l| {
            let mut name = vec![0u8; l[0] as usize];
            c.read_exact(&mut name).ok()?;
            String::from_utf8(name).ok()
        }),
        _ => None,
    };
    let (Some(host), Some(port)) = (host, read_n::<2>(&mut c).map(u16::from_be_bytes)) else {
        let _ = c.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]);
        return;
    };
    if req[1] != 1 {
        let _ = c.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0]);
        return;
    }
    match open(s, &host, port) {
        Ok(up) => {
            if c.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).is_ok() {
                splice(c, up, &[]);
            }
        }
        // 2: connection not allowed by ruleset.
        Err(_) => {
            let _ = c.write_all(&[5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
        }
    }
}

fn read_n<const N: usize>(c: &mut UnixStream) -> Option<[u8; N]> {
    let mut b = [0u8; N];
    c.read_exact(&mut b).ok().map(|_| b)
}

/// Copies both ways until each side is done; `early` is what the client sent past its request.
fn splice(c: UnixStream, mut up: TcpStream, early: &[u8]) {
    let _ = c.set_read_timeout(None);
    if !early.is_empty() && up.write_all(early).is_err() {
        return;
    }
    let (Ok(mut c2), Ok(mut up2)) = (c.try_clone(), up.try_clone()) else {
        return;
    };
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up2, &mut c2);
        let _ = c2.shutdown(Shutdown::Write);
    });
    let mut c = c;
    let _ = std::io::copy(&mut c, &mut up);
    let _ = up.shutdown(Shutdown::Write);
    let _ = back.join();
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}
