//! Credential headers written into the upgrade request below tungstenite, so tungstenite
//! never holds them: it logs the whole request it writes (`Request: "GET … authorization:
//! Bearer sk-…"`, at trace, through the `log` crate), and a process that turns on trace for
//! everything would print the key.
//!
//! [`SecretHeaders`] wraps the socket (above TLS, so it sees plain HTTP) and, on the first
//! write (tungstenite writes the whole request at once), puts the header lines right after
//! the request line. After that it only passes bytes through.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A socket that adds secret header lines to the HTTP request written through it first.
#[derive(Debug)]
pub(crate) struct SecretHeaders<S> {
    inner: S,
    /// `name: value\r\n` lines still to insert; empty once inserted (or when there are none).
    lines: Secret,
    /// The first write with the lines in it, and how much of it the socket took.
    out: Vec<u8>,
    written: usize,
}

/// Header lines, never shown by `Debug`.
struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} secret bytes>", self.0.len())
    }
}

impl<S> SecretHeaders<S> {
    /// Wraps `inner`; `headers` are (name, value) pairs written as they are.
    pub(crate) fn new(inner: S, headers: &[(&str, &[u8])]) -> Self {
        let mut lines = Vec::new();
        for (name, value) in headers {
            lines.extend_from_slice(name.as_bytes());
            lines.extend_from_slice(b": ");
            lines.extend_from_slice(value);
            lines.extend_from_slice(b"\r\n");
        }
        Self {
            inner,
            lines: Secret(lines),
            out: Vec::new(),
            written: 0,
        }
    }
}

impl<S: AsyncWrite + Unpin> SecretHeaders<S> {
    /// Writes what is left of the first write.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.out.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        if !self.out.is_empty() {
            // The request held the secret: do not keep it.
            self.out.fill(0);
            self.out = Vec::new();
            self.written = 0;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for SecretHeaders<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // The answer comes only after the whole request went out.
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for SecretHeaders<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        if !this.lines.0.is_empty() {
            // The request line ends at the first CRLF; the headers follow it.
            if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
                let lines = std::mem::take(&mut this.lines.0);
                let mut out = Vec::with_capacity(buf.len() + lines.len());
                out.extend_from_slice(&buf[..end + 2]);
                out.extend_from_slice(&lines);
                out.extend_from_slice(&buf[end + 2..]);
                let mut lines = lines;
                lines.fill(0);
                this.out = out;
                this.written = 0;
                // Taken whole; the rest goes out on the next write, flush or read.
                if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                    return Poll::Ready(Err(e));
                }
                return Poll::Ready(Ok(buf.len()));
            }
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::SecretHeaders;

    #[tokio::test]
    async fn the_lines_follow_the_request_line_once_and_later_writes_pass_through() {
        // A pipe that takes 7 bytes at a time, so the first write goes out in pieces.
        let (near, mut far) = tokio::io::duplex(7);
        let mut socket = SecretHeaders::new(
            near,
            &[("authorization", b"Bearer sk-1"), ("api-key", b"k2")],
        );
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            far.read_to_end(&mut all).await.unwrap();
            all
        });
        socket
            .write_all(b"GET /v1/realtime HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        socket.write_all(b"frame").await.unwrap();
        socket.shutdown().await.unwrap();
        drop(socket);
        let all = String::from_utf8(reader.await.unwrap()).unwrap();
        assert_eq!(
            all,
            "GET /v1/realtime HTTP/1.1\r\nauthorization: Bearer sk-1\r\napi-key: k2\r\nHost: x\r\n\r\nframe"
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let socket = SecretHeaders::new((), &[("authorization", b"Bearer sk-secret")]);
        let shown = format!("{socket:?}");
        assert!(!shown.contains("sk-secret"), "{shown}");
    }
}
