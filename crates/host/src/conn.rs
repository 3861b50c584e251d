//! The I/O of one control connection: a task reads request lines and hands them to the
//! event loop; another writes the loop's answers. The loop itself never waits on a
//! client.
//!
//! A connection can become the byte stream of a TCP connection ([`sixstack_api::Op::StreamAttach`]):
//! its reader then reads raw bytes, but only as many as the loop granted ([`Credit`]:
//! room in the TCP send buffer), and its writer writes raw chunks and tells the loop
//! each time one is written ([`ConnInput::Wrote`]), so that the loop takes no more from
//! the TCP receive buffer than the client drains. Both directions stay bounded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sixstack_api::MAX_LINE;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedReadHalf;
use tokio::sync::{Notify, mpsc, oneshot};

/// Lines queued towards one client before it counts as not reading. Events stop short
/// of it ([`EVENT_HEADROOM`]) so answers always fit.
pub const OUT_QUEUE: usize = 4096;
pub const EVENT_HEADROOM: usize = 256;

/// The largest chunk of stream bytes moved at once, either way.
pub const STREAM_CHUNK: usize = 64 * 1024;

pub type ConnId = u64;

/// What the writer task writes.
#[derive(Debug)]
pub enum Out {
    /// A protocol line.
    Line(Vec<u8>),
    /// Stream bytes: acknowledged with [`ConnInput::Wrote`] once written (or dropped).
    Raw(Vec<u8>),
    /// End of the stream towards the client (shutdown of the writing side).
    Shutdown,
}

/// Stream bytes the reader may read, granted by the loop.
#[derive(Debug, Default)]
pub struct Credit {
    avail: AtomicUsize,
    notify: Notify,
}

impl Credit {
    pub fn grant(&self, n: usize) {
        if n > 0 {
            self.avail.fetch_add(n, Ordering::AcqRel);
            self.notify.notify_one();
        }
    }

    /// Granted and not read yet.
    pub fn available(&self) -> usize {
        self.avail.load(Ordering::Acquire)
    }
}

/// What connection tasks tell the event loop.
#[derive(Debug)]
pub enum ConnInput {
    Line(ConnId, Vec<u8>),
    /// A line that may be a `stream_attach`: the reader waits for the verdict (the
    /// stream's credit when the connection became a stream).
    Attach(ConnId, Vec<u8>, oneshot::Sender<Option<Arc<Credit>>>),
    /// A line longer than [`MAX_LINE`]: the connection is closed after the answer.
    TooLong(ConnId),
    Closed(ConnId),
    /// Stream bytes from the client.
    Data(ConnId, Vec<u8>),
    /// The client shut down its writing side (or closed).
    StreamEof(ConnId),
    /// A [`Out::Raw`] chunk of this many bytes left the queue.
    Wrote(ConnId, usize),
    /// Writing stream bytes failed: the client no longer reads.
    WriteFailed(ConnId),
}

/// Starts the reader and writer tasks of an accepted connection; returns the sender of
/// its outgoing messages and the reader task (aborted when the loop drops the
/// connection).
pub fn spawn(
    id: ConnId,
    stream: UnixStream,
    to_loop: mpsc::Sender<ConnInput>,
) -> (mpsc::Sender<Out>, tokio::task::AbortHandle) {
    let (rd, mut wr) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(OUT_QUEUE);
    let wloop = to_loop.clone();
    tokio::spawn(async move {
        let mut dead = false;
        while let Some(o) = out_rx.recv().await {
            match o {
                Out::Line(line) => {
                    if !dead && wr.write_all(&line).await.is_err() {
                        // The client is gone; its reader tells the loop.
                        return;
                    }
                }
                Out::Raw(b) => {
                    if !dead && wr.write_all(&b).await.is_err() {
                        dead = true;
                        let _ = wloop.send(ConnInput::WriteFailed(id)).await;
                    }
                    if wloop.send(ConnInput::Wrote(id, b.len())).await.is_err() {
                        return;
                    }
                }
                Out::Shutdown => {
                    let _ = wr.shutdown().await;
                    dead = true;
                }
            }
        }
        let _ = wr.shutdown().await;
    });
    let reader = tokio::spawn(async move {
        let mut rd = BufReader::new(rd);
        let mut line = Vec::new();
        loop {
            line.clear();
            match read_line(&mut rd, &mut line).await {
                Ok(Some(true)) if may_attach(&line) => {
                    let (tx, rx) = oneshot::channel();
                    let l = std::mem::take(&mut line);
                    if to_loop.send(ConnInput::Attach(id, l, tx)).await.is_err() {
                        return;
                    }
                    if let Ok(Some(credit)) = rx.await {
                        return raw(id, rd, credit, to_loop).await;
                    }
                }
                Ok(Some(true)) => {
                    if to_loop
                        .send(ConnInput::Line(id, std::mem::take(&mut line)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(Some(false)) => {
                    let _ = to_loop.send(ConnInput::TooLong(id)).await;
                    break;
                }
                Ok(None) | Err(_) => break,
            }
        }
        let _ = to_loop.send(ConnInput::Closed(id)).await;
    });
    (out_tx, reader.abort_handle())
}

/// Cheap: only lines that may be a `stream_attach` make the reader wait for the loop.
fn may_attach(line: &[u8]) -> bool {
    line.windows(13).any(|w| w == b"stream_attach")
}

/// The reader of a stream: raw bytes, as many as granted, in chunks.
async fn raw(
    id: ConnId,
    mut rd: BufReader<OwnedReadHalf>,
    credit: Arc<Credit>,
    to_loop: mpsc::Sender<ConnInput>,
) {
    loop {
        let avail = credit.available();
        if avail == 0 {
            // A grant between the load and here left a permit: no wake-up is lost.
            credit.notify.notified().await;
            continue;
        }
        let mut buf = vec![0u8; avail.min(STREAM_CHUNK)];
        let n: usize = rd.read(&mut buf).await.unwrap_or_default();
        if n == 0 {
            let _ = to_loop.send(ConnInput::StreamEof(id)).await;
            return;
        }
        buf.truncate(n);
        credit.avail.fetch_sub(n, Ordering::AcqRel);
        if to_loop.send(ConnInput::Data(id, buf)).await.is_err() {
            return;
        }
    }
}

/// Reads up to and including `\n`. Some(true): a line; Some(false): longer than
/// [`MAX_LINE`]; None: end of stream (a last line without `\n` still counts).
async fn read_line<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    out: &mut Vec<u8>,
) -> std::io::Result<Option<bool>> {
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(if out.is_empty() { None } else { Some(true) });
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        out.extend_from_slice(&buf[..take]);
        r.consume(take);
        if out.len() > MAX_LINE {
            return Ok(Some(false));
        }
        if done {
            return Ok(Some(true));
        }
    }
}
