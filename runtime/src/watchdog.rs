//! The connection watchdog: closes HTTP/1.1 connections that sit without progress, against
//! slow-loris clients (a request head trickled byte by byte, or a connection opened and never
//! used) and idle keep-alive connections. It stands in for hyper's `header_read_timeout`.
//!
//! Why not hyper's timer: hyper arms a fresh timer for every request head (a clock read, a
//! boxed `Sleep`, an insertion into and a removal from tokio's timer wheel), about 0.3 µs per
//! request on this project's load test (`bench/cache.sh`, A/B with the timeout off; see
//! `BENCHMARKS.md`), a twentieth of the whole cost of a cached answer. The watchdog instead
//! runs one timer per connection, in its own task, that wakes four times per timeout and
//! looks at two words the connection keeps up to date with plain stores: whether a request is
//! being served, and a progress counter bumped when one starts or ends and on every write. A
//! connection that served nothing and wrote nothing for four checks in a row has been idle for
//! at least the timeout (at most a quarter more) and is closed.
//!
//! What counts as idle, as with hyper's timer: waiting for a request head — before the first
//! request, between keep-alive requests, or while a head arrives slowly. A request being served
//! (its body read, its integration called) is not idle; a response being written is not idle
//! while its bytes move. Unlike hyper's timer it also closes a connection whose client stops
//! reading a response for the timeout, and one that never sends a byte. HTTP/2 connections
//! (recognised by their preface) are not watched, as hyper never timed them either.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a connection tells its watchdog. Written only from the connection's own task (HTTP/1.1
/// serves one request at a time), so plain loads and stores suffice; the watchdog reads them
/// from another task, where a stale value only delays its verdict by one check.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    busy: AtomicBool,
    progress: AtomicU64,
    /// An HTTP/2 connection: never closed for idleness.
    exempt: AtomicBool,
    /// The connection is gone; the watchdog may stop.
    closed: tokio::sync::Notify,
}

impl Activity {
    fn bump(&self) {
        let p = self.progress.load(Ordering::Relaxed);
        self.progress.store(p.wrapping_add(1), Ordering::Relaxed);
    }

    /// Marks a request as being served until the guard drops.
    pub(crate) fn serving(self: &Arc<Self>) -> Serving {
        self.busy.store(true, Ordering::Relaxed);
        self.bump();
        Serving(self.clone())
    }

    /// Tells the watchdog the connection has ended.
    pub(crate) fn close(&self) {
        self.closed.notify_one();
    }
}

/// A request in progress on a watched connection.
#[derive(Debug)]
pub(crate) struct Serving(Arc<Activity>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Relaxed);
        self.0.bump();
    }
}

/// Completes when the connection has been idle for `timeout` (to within a quarter of it), or
/// never when it is an HTTP/2 connection; returns early when the connection closes (`false`).
pub(crate) async fn expired(activity: &Activity, timeout: Duration) -> bool {
    const CHECKS: u32 = 4;
    let period = (timeout / CHECKS).max(Duration::from_millis(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The counter at the last check; the first check only takes a reading.
    let mut seen = None;
    let mut idle = 0;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = activity.closed.notified() => return false,
        }
        if activity.exempt.load(Ordering::Relaxed) {
            activity.closed.notified().await;
            return false;
        }
        let progress = activity.progress.load(Ordering::Relaxed);
        if activity.busy.load(Ordering::Relaxed) || seen != Some(progress) {
            seen = Some(progress);
            idle = 0;
            continue;
        }
        idle += 1;
        if idle >= CHECKS {
            return true;
        }
    }
}

/// A TCP stream that reports its writes (and an HTTP/2 preface) to its connection's watchdog.
#[derive(Debug)]
pub(crate) struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
    first_read: bool,
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, activity: Arc<Activity>) -> Self {
        Watched {
            inner,
            activity,
            first_read: true,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if this.first_read && buf.filled().len() > before {
            this.first_read = false;
            // The HTTP/2 connection preface starts "PRI * HTTP/2.0".
            if buf.filled()[before..].starts_with(b"PRI ") {
                this.activity.exempt.store(true, Ordering::Relaxed);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bump();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.bump();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_expires_after_the_timeout_and_a_busy_one_does_not() {
        let a = Arc::new(Activity::default());
        let start = tokio::time::Instant::now();
        assert!(expired(&a, Duration::from_secs(8)).await);
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(8) && waited <= Duration::from_secs(10),
            "{waited:?}"
        );

        // Busy for a long time: never idle.
        let a = Arc::new(Activity::default());
        let guard = a.serving();
        let watch = tokio::spawn({
            let a = a.clone();
            async move { expired(&a, Duration::from_secs(8)).await }
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!watch.is_finished());
        drop(guard);
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert!(watch.is_finished());
        assert!(watch.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn progress_restarts_the_count_and_closing_ends_the_watch() {
        let a = Arc::new(Activity::default());
        let watch = tokio::spawn({
            let a = a.clone();
            async move { expired(&a, Duration::from_secs(8)).await }
        });
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            a.bump();
        }
        assert!(!watch.is_finished());
        a.close();
        assert!(!watch.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn http2_connections_are_not_watched() {
        let a = Arc::new(Activity::default());
        a.exempt.store(true, Ordering::Relaxed);
        let watch = tokio::spawn({
            let a = a.clone();
            async move { expired(&a, Duration::from_secs(1)).await }
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!watch.is_finished());
        a.close();
        assert!(!watch.await.unwrap());
    }
}
