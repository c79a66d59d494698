//! Serving a simulator's router on loopback.

/// A simulator served on an ephemeral loopback port. Dropping it stops the server.
pub struct SimServer {
    pub base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl SimServer {
    pub async fn serve(router: axum::Router) -> std::io::Result<Self> {
        Self::serve_on(router, 0).await
    }

    pub async fn serve_on(router: axum::Router, port: u16) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            base_url: format!("http://{addr}"),
            task,
        })
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
