//! `demo --workers N [--kill-every SECS]`: the worker runs as N child processes of the real
//! binary (`ordersync worker`), sharing the demo's database, keystore, master key and clock
//! offset; a chaos task SIGKILLs a random child at an interval and starts a replacement.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

pub struct Workers {
    children: Arc<Mutex<Vec<Child>>>,
    spec: Arc<ChildSpec>,
    pub killed: Arc<AtomicU64>,
    chaos: Option<tokio::task::JoinHandle<()>>,
}

struct ChildSpec {
    exe: PathBuf,
    config: PathBuf,
    env: Vec<(String, String)>,
    log_dir: PathBuf,
    next: AtomicU64,
}

impl ChildSpec {
    fn spawn(&self) -> anyhow::Result<Child> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let log = std::fs::File::create(self.log_dir.join(format!("worker-{n}.log")))?;
        let mut cmd = Command::new(&self.exe);
        cmd.arg("--config")
            .arg(&self.config)
            .arg("worker")
            .env("ORDERSYNC_WORKER_ID", format!("demo-worker-{n}"))
            // Each child's health listener on a port of its own.
            .env("ORDERSYNC_LISTEN", "127.0.0.1:0");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        Ok(cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?)
    }
}

impl Workers {
    /// Starts `n` workers. `config` is the TOML file they read, `env` their database and key
    /// settings; their logs go to `log_dir/worker-<n>.log`.
    pub fn start(
        n: usize,
        config: &Path,
        env: Vec<(String, String)>,
        log_dir: &Path,
        kill_every: Option<f64>,
    ) -> anyhow::Result<Self> {
        let spec = Arc::new(ChildSpec {
            exe: std::env::current_exe()?,
            config: config.to_path_buf(),
            env,
            log_dir: log_dir.to_path_buf(),
            next: AtomicU64::new(0),
        });
        let mut children = Vec::with_capacity(n);
        for _ in 0..n {
            children.push(spec.spawn()?);
        }
        let children = Arc::new(Mutex::new(children));
        let killed = Arc::new(AtomicU64::new(0));
        let chaos = kill_every.filter(|s| *s > 0.0).map(|secs| {
            let (children, spec, killed) = (children.clone(), spec.clone(), killed.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs_f64(secs));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let mut c = children.lock().await;
                    if c.is_empty() {
                        continue;
                    }
                    let i = rand::random::<u64>() as usize % c.len();
                    // Child::kill sends SIGKILL: no graceful shutdown, leases are left to expire.
                    if c[i].kill().await.is_ok() {
                        killed.fetch_add(1, Ordering::SeqCst);
                    }
                    match spec.spawn() {
                        Ok(child) => c[i] = child,
                        Err(e) => tracing::error!(error = %e, "Cannot start a replacement worker."),
                    }
                }
            })
        });
        Ok(Self {
            children,
            spec,
            killed,
            chaos,
        })
    }

    /// Stops the chaos task and every child.
    pub async fn stop(mut self) {
        if let Some(c) = self.chaos.take() {
            c.abort();
        }
        for mut c in self.children.lock().await.drain(..) {
            let _ = c.kill().await;
        }
        let _ = &self.spec;
    }
}
