//! A TCP proxy a test can cut and restore: the database "goes away" for a server that reaches
//! it through the proxy, while the test and other servers still reach it directly. It can also
//! lose the replies on a connection once a given statement went through it, as a network that
//! drops packets does (the database commits; the server never hears back).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct TcpProxy {
    /// Where to connect instead of the target.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<AbortHandle>>>,
    /// Once bytes containing this pass towards the target, that connection's replies are
    /// silently dropped (its sockets stay open).
    lose_after: Arc<Mutex<Option<Vec<u8>>>>,
    accept: AbortHandle,
}

impl TcpProxy {
    /// Forwards connections from an ephemeral port on 127.0.0.1 to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let lose_after: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
        let (task_up, task_open, task_lose) = (up.clone(), open.clone(), lose_after.clone());
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if !task_up.load(Ordering::SeqCst) {
                    // Down: accept and hang up at once, as a dead server's host would reset.
                    drop(inbound);
                    continue;
                }
                let lose = task_lose.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(target).await {
                        pipe(inbound, outbound, lose).await;
                    }
                });
                if let Ok(mut open) = task_open.lock() {
                    open.retain(|h| !h.is_finished());
                    open.push(pipe.abort_handle());
                }
            }
        })
        .abort_handle();
        Ok(Self { addr, up, open, lose_after, accept })
    }

    /// Breaks every open connection and refuses new ones until [`Self::restore`].
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        if let Ok(mut open) = self.open.lock() {
            for h in open.drain(..) {
                h.abort();
            }
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
        if let Ok(mut lose) = self.lose_after.lock() {
            *lose = None;
        }
    }

    /// From now on, the first connection to send `pattern` towards the target loses every
    /// reply after it: the target acts on the request, the client never hears back, and no
    /// error tells it so. Applies once; [`Self::restore`] disarms it.
    pub fn lose_replies_after(&self, pattern: &[u8]) {
        if let Ok(mut lose) = self.lose_after.lock() {
            *lose = Some(pattern.to_vec());
        }
    }
}

/// Copies both ways until either side closes, dropping replies once the armed pattern passed.
async fn pipe(inbound: TcpStream, outbound: TcpStream, lose: Arc<Mutex<Option<Vec<u8>>>>) {
    let (mut in_read, mut in_write) = inbound.into_split();
    let (mut out_read, mut out_write) = outbound.into_split();
    let losing = Arc::new(AtomicBool::new(false));
    let flag = losing.clone();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match in_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            if let Ok(mut armed) = lose.lock()
                && armed.as_deref().is_some_and(|p| chunk.windows(p.len()).any(|w| w == p))
            {
                *armed = None;
                flag.store(true, Ordering::SeqCst);
            }
            if out_write.write_all(chunk).await.is_err() {
                break;
            }
        }
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match out_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if losing.load(Ordering::SeqCst) {
                continue;
            }
            if in_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    // Either direction ending ends the connection (as `copy_bidirectional` would on an error).
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
