//! Reading and parsing deploy/: YAML documents, compose services, Kubernetes pod specs, the
//! Dockerfile's instructions.

use super::ROOT;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn yaml(rel: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} does not parse: {e}"))
}

pub fn compose() -> Yaml {
    let mut docs = yaml("deploy/docker-compose.yml");
    assert_eq!(docs.len(), 1, "one compose document");
    docs.remove(0)
}

/// Every document of deploy/k8s/*.yaml (and *.yml), with its file.
pub fn k8s() -> Vec<(String, Yaml)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("deploy/k8s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "deploy/k8s holds manifests");
    let mut docs = vec![];
    for f in files {
        let rel = f.strip_prefix(ROOT).unwrap().display().to_string();
        for d in yaml(&rel) {
            assert!(d.as_hash().is_some(), "{rel}: a document is not a mapping");
            docs.push((rel.clone(), d));
        }
    }
    docs
}

pub fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A sequence of scalars (`command`, `args`, ...); missing is empty.
pub fn strings(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .map(|v| v.iter().map(|i| scalar(i).expect("a scalar")).collect())
        .unwrap_or_default()
}

pub fn keys(y: &Yaml) -> Vec<String> {
    y.as_hash()
        .map(|h| h.keys().filter_map(scalar).collect())
        .unwrap_or_default()
}

/// Every scalar of a document, for the literal-key check.
pub fn all_scalars(y: &Yaml, out: &mut Vec<String>) {
    match y {
        Yaml::Array(v) => v.iter().for_each(|i| all_scalars(i, out)),
        Yaml::Hash(h) => h.iter().for_each(|(k, v)| {
            all_scalars(k, out);
            all_scalars(v, out);
        }),
        y => out.extend(scalar(y)),
    }
}

/// The shape of a master key (base64 of 32 bytes), alone or after `NAME=`.
pub fn looks_like_a_master_key(s: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let s = s.trim().trim_matches(|c| c == '"' || c == '\'');
    let is_key = |v: &str| b64.decode(v.trim()).is_ok_and(|b| b.len() == 32);
    is_key(s) || s.split_once('=').is_some_and(|(_, v)| is_key(v))
}

/// `host:port` → port.
pub fn port_of(listen: &str) -> u16 {
    listen
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {listen}"))
}

/// `postgres://user:password@host:port/db?params` → (password, database).
pub fn url_parts(u: &str) -> (String, String) {
    let rest = u
        .strip_prefix("postgres://")
        .unwrap_or_else(|| panic!("{u} is not a postgres:// URL"));
    let (userinfo, hostpath) = rest.rsplit_once('@').expect("credentials in the URL");
    let password = userinfo.split_once(':').map(|(_, p)| p).unwrap_or("");
    let db = hostpath
        .split_once('/')
        .map(|(_, d)| d.split('?').next().unwrap())
        .unwrap_or("");
    assert!(!db.is_empty(), "{u} names no database");
    (password.to_string(), db.to_string())
}

// ---- the Dockerfile --------------------------------------------------------------------------

/// One instruction: `op` upper-cased, `args` with continuation lines joined.
pub struct Instr {
    pub op: String,
    pub args: String,
}

/// The Dockerfile's instructions, comments dropped.
pub fn dockerfile() -> Vec<Instr> {
    let mut out = vec![];
    let mut cur = String::new();
    for line in read("deploy/Dockerfile").lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some(body) = t.strip_suffix('\\') {
            cur.push_str(body);
            cur.push(' ');
            continue;
        }
        cur.push_str(t);
        let (op, args) = cur.split_once(' ').unwrap_or((&cur, ""));
        out.push(Instr {
            op: op.to_ascii_uppercase(),
            args: args.trim().to_string(),
        });
        cur.clear();
    }
    assert!(cur.is_empty(), "the Dockerfile ends inside a continuation");
    out
}

pub fn json_argv(s: &str, whence: &str) -> Vec<String> {
    serde_json::from_str(s.trim())
        .unwrap_or_else(|e| panic!("{whence} is not the JSON (exec) form: {s}: {e}"))
}

// ---- docker compose --------------------------------------------------------------------------

pub fn compose_env(svc: &Yaml) -> BTreeMap<String, String> {
    let env = &svc["environment"];
    if let Some(list) = env.as_vec() {
        return list
            .iter()
            .map(|e| {
                let e = scalar(e).unwrap();
                let (k, v) = e.split_once('=').unwrap_or((&e, ""));
                (k.to_string(), v.to_string())
            })
            .collect();
    }
    env.as_hash()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (scalar(k).unwrap(), scalar(v).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// The services running the ordersync image, by name, with their role (the subcommand).
pub fn ordersync_services(c: &Yaml) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, svc) in c["services"].as_hash().unwrap() {
        if scalar(&svc["build"]["dockerfile"]).as_deref() == Some("deploy/Dockerfile") {
            let cmd = strings(&svc["command"]);
            let role = cmd
                .first()
                .cloned()
                .expect("an ordersync service names its command");
            out.insert(scalar(name).unwrap(), role);
        }
    }
    out
}

// ---- Kubernetes ------------------------------------------------------------------------------

/// A Job's or a Deployment's pod spec, with the workload's kind and name.
pub struct Pod<'a> {
    pub kind: String,
    pub name: String,
    pub workload: &'a Yaml,
    pub spec: &'a Yaml,
}

impl Pod<'_> {
    pub fn containers(&self) -> &[Yaml] {
        self.spec["containers"].as_vec().expect("containers")
    }
    /// The subcommand of its (one) ordersync container.
    pub fn role(&self) -> String {
        let c = &self.containers()[0];
        strings(&c["args"]).first().cloned().unwrap_or_default()
    }
}

pub fn pods(docs: &[(String, Yaml)]) -> Vec<Pod<'_>> {
    docs.iter()
        .filter(|(_, d)| matches!(d["kind"].as_str(), Some("Job" | "Deployment")))
        .map(|(_, d)| Pod {
            kind: d["kind"].as_str().unwrap().into(),
            name: d["metadata"]["name"].as_str().unwrap().into(),
            workload: d,
            spec: &d["spec"]["template"]["spec"],
        })
        .collect()
}

pub fn one_of<'a>(docs: &'a [(String, Yaml)], kind: &str) -> &'a Yaml {
    let found: Vec<&Yaml> = docs
        .iter()
        .filter(|(_, d)| d["kind"].as_str() == Some(kind))
        .map(|(_, d)| d)
        .collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

pub fn labels_match(selector: &Yaml, labels: &Yaml) -> bool {
    let sel = selector.as_hash().expect("a selector");
    !sel.is_empty() && sel.iter().all(|(k, v)| labels[k.as_str().unwrap()] == *v)
}
