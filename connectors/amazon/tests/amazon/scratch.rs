use crate::env;
use ordersync_amazon::sim::SimOptions;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn scratch_python() {
    let e = env(SimOptions::relaxed()).await;
    e.post("/_sim/seed", json!({"count": 120, "seed": 4})).await;
    let base = e.sim.base_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").arg("/tmp/amzpy/check.py").arg(base).output().unwrap()
    }).await.unwrap();
    println!("STDOUT {}", String::from_utf8_lossy(&out.stdout));
    println!("STDERR {}", String::from_utf8_lossy(&out.stderr));
}
