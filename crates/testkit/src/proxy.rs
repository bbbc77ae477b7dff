//! A TCP proxy a test can cut and restore: the database "goes away" for a server that reaches
//! it through the proxy, while the test and other servers still reach it directly.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct TcpProxy {
    /// Where to connect instead of the target.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl TcpProxy {
    /// Forwards connections from an ephemeral port on 127.0.0.1 to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (task_up, task_open) = (up.clone(), open.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !task_up.load(Ordering::SeqCst) {
                    // Down: accept and hang up at once, as a dead server's host would reset.
                    drop(inbound);
                    continue;
                }
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                if let Ok(mut open) = task_open.lock() {
                    open.retain(|h| !h.is_finished());
                    open.push(pipe.abort_handle());
                }
            }
        })
        .abort_handle();
        Ok(Self { addr, up, open, accept })
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
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
