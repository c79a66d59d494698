//! deploy/: the Dockerfile, the compose file and the Kubernetes manifests parse, and what they
//! name exists in the code: subcommands and flags (the built binary's `--help`), `ORDERSYNC_*`
//! variables (the sources), probe paths (the router, in-process). No container engine runs
//! here, so this is what can be checked without one.

mod code;
mod files;

use crate::helpers::{Backend, TestApp};
use files::*;
use ordersync::api::{self, ApiState};
use std::collections::{BTreeMap, BTreeSet};
use yaml_rust2::Yaml;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_ordersync");
/// Roles whose process serves HTTP on `ORDERSYNC_LISTEN` (src/main.rs: `serve` and `api`).
const LISTENING: [&str; 3] = ["api", "serve", "worker"];
/// Roles whose listener is published (a worker's serves health and metrics in the container).
const PUBLISHED: [&str; 2] = ["api", "serve"];

// ---- the Dockerfile --------------------------------------------------------------------------

/// The image's run-time facts, which the manifests must match.
struct Image {
    uid: u32,
    /// `ordersync <argv>` of CMD and of HEALTHCHECK.
    argvs: Vec<(String, Vec<String>)>,
    env: BTreeMap<String, String>,
}

fn image() -> Image {
    let ins = dockerfile();
    let stages: Vec<usize> = (0..ins.len()).filter(|&i| ins[i].op == "FROM").collect();
    assert!(stages.len() >= 2, "multi-stage: {} FROM", stages.len());
    let stage = |n: usize| &ins[stages[n]..*stages.get(n + 1).unwrap_or(&ins.len())];
    let (builder, runtime) = (stage(0), stage(stages.len() - 1));

    // The builder: a named stage that builds the release binary from the lock file.
    let from: Vec<&str> = builder[0].args.split_whitespace().collect();
    assert!(
        from.len() == 3 && from[1].eq_ignore_ascii_case("as"),
        "the builder stage is named: FROM {}",
        builder[0].args
    );
    let builder_name = from[2];
    assert!(from[0].starts_with("rust:"), "FROM {}", from[0]);
    assert!(
        builder.iter().any(|i| i.op == "RUN"
            && i.args
                .contains("cargo build --release --locked --bin ordersync")),
        "the builder runs cargo build --release --locked --bin ordersync"
    );
    // The binary links against the builder's glibc: the runtime must be the same Debian release.
    let codename = |image: &str| {
        ["bullseye", "bookworm", "trixie", "forky"]
            .into_iter()
            .find(|c| image.contains(c))
            .unwrap_or_else(|| panic!("{image} names no Debian release"))
    };
    let runtime_from = runtime[0].args.split_whitespace().next().unwrap();
    assert_eq!(codename(from[0]), codename(runtime_from));
    assert!(
        runtime_from.contains("slim"),
        "a slim runtime: {runtime_from}"
    );

    // The runtime: CA certificates, the binary from the builder, a numeric non-root user.
    assert!(
        runtime.iter().any(|i| i.op == "RUN"
            && i.args.contains("install")
            && i.args.contains("ca-certificates")),
        "the runtime installs ca-certificates"
    );
    assert!(
        runtime.iter().any(|i| i.op == "COPY"
            && i.args.contains(&format!("--from={builder_name}"))
            && i.args.ends_with("/usr/local/bin/ordersync")),
        "the runtime copies the binary from {builder_name} onto the PATH"
    );
    let users: Vec<&Instr> = runtime.iter().filter(|i| i.op == "USER").collect();
    assert_eq!(users.len(), 1, "one USER in the runtime stage");
    let uid: u32 = users[0]
        .args
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("USER {} is not numeric", users[0].args));
    assert_ne!(uid, 0, "USER is not root");
    let last = |op: &str| {
        runtime
            .iter()
            .rev()
            .find(|i| i.op == op)
            .unwrap_or_else(|| panic!("the runtime stage has no {op}"))
    };
    assert_eq!(
        json_argv(&last("ENTRYPOINT").args, "ENTRYPOINT"),
        ["ordersync"]
    );
    let mut argvs = vec![(
        "Dockerfile CMD".to_string(),
        json_argv(&last("CMD").args, "CMD"),
    )];
    let hc = &last("HEALTHCHECK").args;
    let (_, cmd) = hc
        .split_once("CMD ")
        .unwrap_or_else(|| panic!("HEALTHCHECK without CMD: {hc}"));
    let hc_argv = json_argv(cmd, "HEALTHCHECK CMD");
    assert_eq!(
        hc_argv[0], "ordersync",
        "the healthcheck runs the binary (no curl)"
    );
    argvs.push(("Dockerfile HEALTHCHECK".into(), hc_argv[1..].to_vec()));

    let mut env = BTreeMap::new();
    for i in runtime.iter().filter(|i| i.op == "ENV") {
        for kv in i.args.split_whitespace() {
            let (k, v) = kv.split_once('=').expect("ENV key=value");
            env.insert(k.to_string(), v.to_string());
        }
    }
    let listen = env.get("ORDERSYNC_LISTEN").expect("ENV ORDERSYNC_LISTEN");
    assert_eq!(
        last("EXPOSE").args,
        port_of(listen).to_string(),
        "EXPOSE is the listen port"
    );
    for i in &ins {
        for word in i.args.split_whitespace() {
            assert!(!looks_like_a_master_key(word), "a key in the Dockerfile");
        }
    }
    Image { uid, argvs, env }
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_as_a_numeric_non_root_user_in_another() {
    let img = image();
    assert!(
        img.uid >= 1000,
        "a dedicated uid, not a system one: {}",
        img.uid
    );
    // The build context is the repository root: build output and secrets stay out of it.
    let ignore = read(".dockerignore");
    for entry in ["target/", ".git/", "deploy/secrets/", "deploy/.env"] {
        assert!(
            ignore.lines().any(|l| l.trim() == entry),
            ".dockerignore lacks {entry}"
        );
    }
    let git = read("deploy/.gitignore");
    for entry in ["secrets/", ".env"] {
        assert!(
            git.lines().any(|l| l.trim() == entry),
            "deploy/.gitignore lacks {entry}"
        );
    }
}

// ---- docker compose --------------------------------------------------------------------------

#[test]
fn compose_starts_postgres_then_the_migration_then_the_api_and_two_workers() {
    let c = compose();
    let services = &c["services"];
    for s in ["postgres", "migrate", "api", "worker"] {
        assert!(!services[s].is_badvalue(), "compose has no {s} service");
    }
    let ours = ordersync_services(&c);
    for role in ["migrate", "api", "worker"] {
        assert_eq!(
            ours.get(role).map(String::as_str),
            Some(role),
            "the {role} service runs `ordersync {role}`"
        );
    }
    let images: BTreeSet<String> = ours
        .keys()
        .map(|n| scalar(&services[n.as_str()]["image"]).expect("a tagged image"))
        .collect();
    assert_eq!(images.len(), 1, "one image for every role: {images:?}");

    let pg = &services["postgres"];
    assert!(
        strings(&pg["healthcheck"]["test"])
            .iter()
            .any(|a| a.contains("pg_isready")),
        "postgres is healthy when pg_isready says so"
    );
    assert_eq!(
        scalar(&services["migrate"]["depends_on"]["postgres"]["condition"]).as_deref(),
        Some("service_healthy")
    );
    for (name, role) in &ours {
        let svc = &services[name.as_str()];
        assert_eq!(
            scalar(&svc["build"]["context"]).as_deref(),
            Some(".."),
            "{name}: the build context is the repository root"
        );
        if role != "migrate" {
            assert_eq!(
                scalar(&svc["depends_on"]["migrate"]["condition"]).as_deref(),
                Some("service_completed_successfully"),
                "{name} starts after the migration succeeded"
            );
        }
        // The image's HEALTHCHECK GETs /healthz: only a process that listens can pass it.
        let listens = LISTENING.contains(&role.as_str());
        assert_eq!(
            svc["healthcheck"]["disable"].as_bool() == Some(true),
            !listens,
            "{name} ({role}): the image healthcheck must be on exactly where something listens"
        );
        if PUBLISHED.contains(&role.as_str()) {
            let port = port_of(&compose_env(svc)["ORDERSYNC_LISTEN"]);
            assert!(
                strings(&svc["ports"])
                    .iter()
                    .any(|p| p.rsplit(':').next() == Some(&port.to_string())),
                "{name} publishes its listen port {port}"
            );
        }
    }
    let workers: i64 = ours
        .iter()
        .filter(|(_, r)| *r == "worker")
        .map(|(n, _)| {
            services[n.as_str()]["deploy"]["replicas"]
                .as_i64()
                .unwrap_or(1)
        })
        .sum();
    assert!(workers >= 2, "{workers} workers");
}

#[test]
fn compose_reads_the_master_key_from_a_secret_file_and_the_keystore_from_its_own_database() {
    let c = compose();
    let services = &c["services"];
    let secrets = c["secrets"].as_hash().expect("top-level secrets");
    let key_secret = secrets
        .iter()
        .find(|(_, v)| !v["file"].is_badvalue())
        .map(|(k, _)| scalar(k).unwrap())
        .expect("a file-backed secret");
    let key_file = scalar(&c["secrets"][key_secret.as_str()]["file"]).unwrap();
    assert!(
        key_file.starts_with("./secrets/"),
        "{key_file}: under deploy/secrets/, which git and the build context ignore"
    );

    // The keystore's database: created by the init script PostgreSQL runs on its first start.
    let pg = &services["postgres"];
    let init: Vec<String> = strings(&pg["volumes"])
        .into_iter()
        .filter(|v| {
            v.split(':')
                .nth(1)
                .is_some_and(|t| t.starts_with("/docker-entrypoint-initdb.d/"))
        })
        .collect();
    assert_eq!(init.len(), 1, "one init script: {init:?}");
    let script = read(&format!(
        "deploy/{}",
        init[0].split(':').next().unwrap().trim_start_matches("./")
    ));
    let orders_db = compose_env(pg)
        .get("POSTGRES_DB")
        .cloned()
        .expect("POSTGRES_DB");

    for name in ordersync_services(&c).keys() {
        let svc = &services[name.as_str()];
        let env = compose_env(svc);
        assert!(
            strings(&svc["secrets"]).contains(&key_secret),
            "{name} mounts the {key_secret} secret"
        );
        assert_eq!(
            env.get("ORDERSYNC_MASTER_KEY_FILE"),
            Some(&format!("/run/secrets/{key_secret}")),
            "{name} reads the key from the mounted secret"
        );
        for inline in ["ORDERSYNC_MASTER_KEY", "ORDERSYNC_MASTER_KEY_PREVIOUS"] {
            assert!(!env.contains_key(inline), "{name}: {inline} inline");
        }
        let (pw, db) = url_parts(&env["ORDERSYNC_DATABASE_URL"]);
        let (ks_pw, ks_db) = url_parts(&env["ORDERSYNC_KEYSTORE_URL"]);
        assert!(
            pw.starts_with("${") && ks_pw.starts_with("${"),
            "{name}: a literal database password"
        );
        assert_eq!(db, orders_db, "{name}: the orders database");
        assert_ne!(db, ks_db, "{name}: the keystore is a database of its own");
        assert!(
            script.contains(&format!("CREATE DATABASE {ks_db};")),
            "the init script creates {ks_db}"
        );
    }
    let mut all = vec![];
    all_scalars(&c, &mut all);
    assert!(
        !all.iter().any(|s| looks_like_a_master_key(s)),
        "a master key written in the compose file"
    );
}

// ---- Kubernetes ------------------------------------------------------------------------------

/// The pods by role (the subcommand), each role once: `migrate`, `api`, `worker`.
fn by_role<'a>(pods: &'a [Pod<'a>]) -> BTreeMap<String, &'a Pod<'a>> {
    let roles: BTreeMap<String, &Pod> = pods.iter().map(|p| (p.role(), p)).collect();
    assert_eq!(roles.len(), pods.len(), "one workload per role");
    assert_eq!(
        roles.keys().map(String::as_str).collect::<Vec<_>>(),
        ["api", "migrate", "worker"]
    );
    assert_eq!(roles["migrate"].kind, "Job");
    assert_eq!(roles["api"].kind, "Deployment");
    assert_eq!(roles["worker"].kind, "Deployment");
    roles
}

#[test]
fn k8s_manifests_are_namespace_agnostic_and_the_secret_holds_placeholders_only() {
    let docs = k8s();
    for (file, d) in &docs {
        for f in ["apiVersion", "kind"] {
            assert!(d[f].as_str().is_some(), "{file}: no {f}");
        }
        assert!(d["metadata"]["name"].as_str().is_some(), "{file}: no name");
        assert!(
            d["metadata"]["namespace"].is_badvalue(),
            "{file}: names a namespace (apply with -n instead)"
        );
    }
    let secret = one_of(&docs, "Secret");
    let data = &secret["stringData"];
    for k in keys(data) {
        let v = scalar(&data[k.as_str()]).unwrap();
        assert!(
            v.is_empty() || v.contains("REPLACE_ME"),
            "Secret {k}: a real-looking value in the template"
        );
    }
    let mut all = vec![];
    for (_, d) in &docs {
        all_scalars(d, &mut all);
    }
    assert!(
        !all.iter().any(|s| looks_like_a_master_key(s)),
        "a master key written in a manifest"
    );
    let (_, orders_db) = url_parts(&scalar(&data["database-url"]).unwrap());
    let (_, keystore_db) = url_parts(&scalar(&data["keystore-url"]).unwrap());
    assert_ne!(
        orders_db, keystore_db,
        "the keystore is a database of its own"
    );
}

#[test]
fn k8s_pods_run_one_image_as_the_images_non_root_user_read_only_with_resources() {
    let docs = k8s();
    let img = image();
    let pods = pods(&docs);
    let roles = by_role(&pods);
    assert!(matches!(
        roles["migrate"].spec["restartPolicy"].as_str(),
        Some("Never" | "OnFailure")
    ));
    let mut images = BTreeSet::new();
    for p in &pods {
        let w = format!("{} {}", p.kind, p.name);
        let sc = &p.spec["securityContext"];
        assert_eq!(
            sc["runAsNonRoot"].as_bool(),
            Some(true),
            "{w}: runAsNonRoot"
        );
        assert_eq!(
            sc["runAsUser"].as_i64(),
            Some(i64::from(img.uid)),
            "{w}: runAsUser is the image's USER"
        );
        assert_eq!(
            p.spec["automountServiceAccountToken"].as_bool(),
            Some(false),
            "{w}: no API token"
        );
        if p.kind == "Deployment" {
            assert!(
                labels_match(
                    &p.workload["spec"]["selector"]["matchLabels"],
                    &p.workload["spec"]["template"]["metadata"]["labels"]
                ),
                "{w}: the selector matches the pod labels"
            );
        }
        assert_eq!(p.containers().len(), 1, "{w}: one container");
        let c = &p.containers()[0];
        images.insert(c["image"].as_str().expect("image").to_string());
        let command = strings(&c["command"]);
        assert!(
            command.is_empty() || command == ["ordersync"],
            "{w}: the image's entrypoint runs"
        );
        let csc = &c["securityContext"];
        assert_eq!(csc["readOnlyRootFilesystem"].as_bool(), Some(true), "{w}");
        assert_eq!(
            csc["allowPrivilegeEscalation"].as_bool(),
            Some(false),
            "{w}"
        );
        assert!(
            strings(&csc["capabilities"]["drop"]).contains(&"ALL".into()),
            "{w}"
        );
        for r in ["requests", "limits"] {
            for q in ["cpu", "memory"] {
                assert!(
                    scalar(&c["resources"][r][q]).is_some(),
                    "{w}: resources.{r}.{q}"
                );
            }
        }
    }
    assert_eq!(images.len(), 1, "one image for the release: {images:?}");
}

#[test]
fn k8s_pods_read_the_master_key_as_a_file_of_the_secret_and_the_urls_from_it() {
    let docs = k8s();
    let secret = one_of(&docs, "Secret");
    let secret_name = secret["metadata"]["name"].as_str().unwrap();
    let secret_keys = keys(&secret["stringData"]);
    for p in pods(&docs) {
        let w = format!("{} {}", p.kind, p.name);
        let c = &p.containers()[0];
        let env = c["env"].as_vec().cloned().unwrap_or_default();
        let by_name = |n: &str| env.iter().find(|e| e["name"].as_str() == Some(n));
        for e in &env {
            let r = &e["valueFrom"]["secretKeyRef"];
            if !r.is_badvalue() {
                assert_eq!(r["name"].as_str(), Some(secret_name), "{w}");
                let key = r["key"].as_str().unwrap().to_string();
                assert!(secret_keys.contains(&key), "{w}: the Secret has no {key}");
            }
        }
        for inline in ["ORDERSYNC_MASTER_KEY", "ORDERSYNC_MASTER_KEY_PREVIOUS"] {
            assert!(
                by_name(inline).is_none(),
                "{w}: {inline} from the environment"
            );
        }
        for k in ["ORDERSYNC_DATABASE_URL", "ORDERSYNC_KEYSTORE_URL"] {
            assert!(
                by_name(k).is_some_and(|e| !e["valueFrom"]["secretKeyRef"].is_badvalue()),
                "{w}: {k} from the Secret"
            );
        }
        let key_path = by_name("ORDERSYNC_MASTER_KEY_FILE")
            .and_then(|e| e["value"].as_str())
            .unwrap_or_else(|| panic!("{w}: no ORDERSYNC_MASTER_KEY_FILE"));
        let volumes = p.spec["volumes"].as_vec().expect("volumes");
        let mounted = c["volumeMounts"]
            .as_vec()
            .expect("volumeMounts")
            .iter()
            .any(|m| {
                let vol = volumes
                    .iter()
                    .find(|v| v["name"] == m["name"])
                    .expect("the mount's volume");
                vol["secret"]["secretName"].as_str() == Some(secret_name)
                    && vol["secret"]["items"].as_vec().unwrap().iter().any(|i| {
                        secret_keys.contains(&i["key"].as_str().unwrap().to_string())
                            && format!(
                                "{}/{}",
                                m["mountPath"].as_str().unwrap(),
                                i["path"].as_str().unwrap()
                            ) == key_path
                    })
            });
        assert!(mounted, "{w}: {key_path} is not a file of the Secret");
    }
}

#[test]
fn k8s_workers_are_named_after_their_pod_and_scaled_by_the_hpa() {
    let docs = k8s();
    let pods = pods(&docs);
    let worker = by_role(&pods)["worker"];
    let wc = &worker.containers()[0];
    let id = wc["env"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|e| e["name"].as_str() == Some("ORDERSYNC_WORKER_ID"))
        .expect("ORDERSYNC_WORKER_ID");
    assert_eq!(
        id["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
        Some("metadata.name")
    );
    assert!(
        worker.workload["spec"]["replicas"].is_badvalue(),
        "the worker Deployment sets no replicas: the HPA owns them"
    );
    let hpa = one_of(&docs, "HorizontalPodAutoscaler");
    assert_eq!(hpa["apiVersion"].as_str(), Some("autoscaling/v2"));
    let target = &hpa["spec"]["scaleTargetRef"];
    assert_eq!(target["apiVersion"].as_str(), Some("apps/v1"));
    assert_eq!(target["kind"].as_str(), Some("Deployment"));
    assert_eq!(
        target["name"].as_str(),
        Some(worker.name.as_str()),
        "the HPA scales the worker Deployment"
    );
    let (min, max) = (
        hpa["spec"]["minReplicas"].as_i64().unwrap(),
        hpa["spec"]["maxReplicas"].as_i64().unwrap(),
    );
    assert!(min >= 2 && max >= min, "{min}..{max}");
    for m in hpa["spec"]["metrics"].as_vec().unwrap() {
        if let Some(res) = m["resource"]["name"].as_str() {
            assert!(
                scalar(&wc["resources"]["requests"][res]).is_some(),
                "utilization of {res} needs a request"
            );
        }
    }
}

#[test]
fn k8s_service_selects_the_api_pods_on_a_port_they_name() {
    let docs = k8s();
    let pods = pods(&docs);
    let roles = by_role(&pods);
    let svc = one_of(&docs, "Service");
    let labels = |role: &str| &roles[role].workload["spec"]["template"]["metadata"]["labels"];
    assert!(
        labels_match(&svc["spec"]["selector"], labels("api")),
        "the Service selects the API"
    );
    assert!(
        !labels_match(&svc["spec"]["selector"], labels("worker")),
        "the Service must not select workers"
    );
    let port_names: Vec<String> = roles["api"].containers()[0]["ports"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect();
    for p in svc["spec"]["ports"].as_vec().unwrap() {
        let t = scalar(&p["targetPort"]).unwrap();
        assert!(
            port_names.contains(&t),
            "Service targetPort {t} is not an API port"
        );
    }
}

/// `(role, probe kind, path)` of every httpGet probe, each checked to be on a process that
/// listens, at its listen port.
fn http_probes(docs: &[(String, Yaml)]) -> Vec<(String, String, String)> {
    let mut out = vec![];
    for p in pods(docs) {
        let c = &p.containers()[0];
        let listen = c["env"]
            .as_vec()
            .and_then(|e| {
                e.iter()
                    .find(|e| e["name"].as_str() == Some("ORDERSYNC_LISTEN"))
            })
            .and_then(|e| e["value"].as_str().map(String::from));
        for kind in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let get = &c[kind]["httpGet"];
            let Some(path) = get["path"].as_str() else {
                continue;
            };
            let w = format!("{} {kind}", p.name);
            assert!(
                LISTENING.contains(&p.role().as_str()),
                "{w}: `ordersync {}` opens no HTTP listener",
                p.role()
            );
            let listen = listen
                .clone()
                .unwrap_or_else(|| panic!("{w}: no ORDERSYNC_LISTEN"));
            let port = scalar(&get["port"]).unwrap();
            let number = c["ports"]
                .as_vec()
                .unwrap()
                .iter()
                .find(|cp| {
                    [scalar(&cp["name"]), scalar(&cp["containerPort"])]
                        .contains(&Some(port.clone()))
                })
                .and_then(|cp| cp["containerPort"].as_i64())
                .unwrap_or_else(|| panic!("{w}: port {port} is not a container port"));
            assert_eq!(
                number,
                i64::from(port_of(&listen)),
                "{w}: probes the listen port"
            );
            out.push((p.role(), kind.to_string(), path.to_string()));
        }
    }
    out
}

#[tokio::test]
async fn every_probe_path_of_the_manifests_is_served_by_the_router() {
    let docs = k8s();
    let probes = http_probes(&docs);
    let path = |role: &str, kind: &str| {
        probes
            .iter()
            .find(|(r, k, _)| r == role && k == kind)
            .map(|(_, _, p)| p.as_str())
    };
    assert_eq!(path("api", "readinessProbe"), Some("/readyz"));
    assert_eq!(path("api", "livenessProbe"), Some("/healthz"));
    assert_eq!(path("worker", "readinessProbe"), Some("/readyz"));
    assert_eq!(path("worker", "livenessProbe"), Some("/healthz"));

    let t = TestApp::new(Backend::Sqlite).await;
    let state = ApiState::new(&t.app, t.app.engine(), false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let worker_state = state.clone();
    tokio::spawn(async move { axum::serve(listener, api::router(state)).await.unwrap() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let worker_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, api::worker_router(worker_state))
            .await
            .unwrap()
    });
    let paths: BTreeSet<(bool, &str)> = probes
        .iter()
        .map(|(r, _, p)| (r == "worker", p.as_str()))
        .collect();
    for (worker, p) in paths {
        let at = if worker { &worker_base } else { &base };
        let r = reqwest::get(format!("{at}{p}")).await.unwrap();
        assert_eq!(
            r.status(),
            200,
            "{p} on a healthy {}: {}",
            if worker { "worker" } else { "API" },
            r.text().await.unwrap()
        );
    }
}

// ---- what deploy/ names, against the code ----------------------------------------------------

#[test]
fn every_subcommand_flag_and_variable_deploy_names_exists() {
    let subs = code::subcommands();
    let img = image();
    let mut argvs = img.argvs.clone();
    let mut vars: Vec<(String, String)> = img
        .env
        .keys()
        .map(|k| ("Dockerfile".to_string(), k.clone()))
        .collect();

    let c = compose();
    for name in ordersync_services(&c).keys() {
        let svc = &c["services"][name.as_str()];
        argvs.push((format!("compose {name}"), strings(&svc["command"])));
        vars.extend(
            compose_env(svc)
                .into_keys()
                .map(|k| (format!("compose {name}"), k)),
        );
    }
    let docs = k8s();
    for p in pods(&docs) {
        let ctr = &p.containers()[0];
        let w = format!("{} {}", p.kind, p.name);
        argvs.push((w.clone(), strings(&ctr["args"])));
        for kind in ["startupProbe", "readinessProbe", "livenessProbe"] {
            let exec = strings(&ctr[kind]["exec"]["command"]);
            if !exec.is_empty() {
                assert_eq!(exec[0], "ordersync", "{w} {kind}");
                argvs.push((format!("{w} {kind}"), exec[1..].to_vec()));
            }
        }
        for e in ctr["env"].as_vec().into_iter().flatten() {
            vars.push((w.clone(), e["name"].as_str().unwrap().to_string()));
        }
    }
    let readme = read("deploy/README.md");
    vars.extend(
        code::variables_in(&readme)
            .into_iter()
            .map(|v| ("deploy/README.md".to_string(), v)),
    );

    assert!(argvs.len() >= 8, "{argvs:?}");
    for (whence, argv) in &argvs {
        code::assert_argv(argv, whence, &subs);
    }
    let known = code::known_variables();
    for (whence, v) in vars.iter().filter(|(_, v)| v.starts_with("ORDERSYNC_")) {
        assert!(
            known.contains(v),
            "{whence}: {v} is not read by the service"
        );
    }
}
