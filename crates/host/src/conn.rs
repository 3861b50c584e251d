//! The I/O of one control connection: a task reads request lines and hands them to the
//! event loop; another writes the loop's answers. The loop itself never waits on a
//! client.

use sixstack_api::MAX_LINE;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

/// Lines queued towards one client before it counts as not reading. Events stop short
/// of it ([`EVENT_HEADROOM`]) so answers always fit.
pub const OUT_QUEUE: usize = 4096;
pub const EVENT_HEADROOM: usize = 256;

pub type ConnId = u64;

/// What connection tasks tell the event loop.
#[derive(Debug)]
pub enum ConnInput {
    Line(ConnId, Vec<u8>),
    /// A line longer than [`MAX_LINE`]: the connection is closed after the answer.
    TooLong(ConnId),
    Closed(ConnId),
}

/// Starts the reader and writer tasks of an accepted connection; returns the sender of
/// its outgoing lines.
pub fn spawn(
    id: ConnId,
    stream: UnixStream,
    to_loop: mpsc::Sender<ConnInput>,
) -> mpsc::Sender<Vec<u8>> {
    let (rd, mut wr) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(OUT_QUEUE);
    tokio::spawn(async move {
        while let Some(line) = out_rx.recv().await {
            if wr.write_all(&line).await.is_err() {
                // The client is gone; its reader tells the loop.
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    tokio::spawn(async move {
        let mut rd = BufReader::new(rd);
        let mut line = Vec::new();
        loop {
            line.clear();
            match read_line(&mut rd, &mut line).await {
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
    out_tx
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
