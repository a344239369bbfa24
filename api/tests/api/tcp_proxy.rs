//! A TCP proxy that a test can cut: the server talks to PostgreSQL through it, and
//! [`TcpProxy::stop`] makes the database vanish the way a crash or a network failure does
//! (every open connection dropped, new ones refused) without stopping the machine's
//! PostgreSQL, which other tests are using. [`TcpProxy::restart`] brings it back on the same
//! port.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct TcpProxy {
    port: u16,
    upstream: String,
    accept: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut proxy = Self {
            port,
            upstream: upstream.to_owned(),
            accept: None,
        };
        proxy.serve(listener);
        proxy
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every connection and stops listening: connects are refused from now on.
    pub fn stop(&mut self) {
        if let Some(accept) = self.accept.take() {
            // Aborting the accept task drops the listener and, through the JoinSet it owns,
            // every forwarding task with its two sockets.
            accept.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut last_error = None;
        for _ in 0..50 {
            match TcpListener::bind(address).await {
                Ok(listener) => {
                    self.serve(listener);
                    return;
                }
                Err(error) => last_error = Some(error),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("cannot listen on {address} again: {last_error:?}");
    }

    fn serve(&mut self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        self.accept = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let upstream = upstream.clone();
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                // Forget the finished ones so the set does not grow without bound.
                while connections.try_join_next().is_some() {}
            }
        }));
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop();
    }
}
