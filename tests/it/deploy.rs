//! The deployment files against the engine (docs/deployment.md). deploy/validate.sh checks them
//! against their formats (hadolint, the Kubernetes schemas, the Compose Specification, nats-server
//! `-t`); here they are checked against what the binary and the repository say: every `ADUAN_*`
//! variable is one the binary reads and the docs describe, the images are this version's and the
//! pinned nats-server's, the ports and probes are the ones serve answers on, the NATS URLs name every
//! node of the cluster and the replicas match it, the ConfigMap holds the NATS files byte for byte,
//! and the image's HEALTHCHECK command, run against a real `aduan serve`, tells a live one from a
//! stopped one.

use crate::support::{Db, Server};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};

/// A file of the repository as text.
fn read(path: &str) -> String {
    std::fs::read_to_string(crate::root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every document of a YAML file (anchors and merge keys expanded).
fn yaml_docs(path: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The Kubernetes objects of deploy/k8s/.
fn manifests() -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(crate::root().join("deploy/k8s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|p| yaml_docs(&format!("deploy/k8s/{}", p.file_name().unwrap().to_string_lossy())))
        .filter(|d| !d.is_null())
        .collect()
}

/// The object of `kind` named `name`.
fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/k8s"))
}

/// The containers (init containers first) of a workload.
fn containers(workload: &Value) -> Vec<&Value> {
    let spec = &workload["spec"]["template"]["spec"];
    ["initContainers", "containers"].iter().flat_map(|k| spec[*k].as_array().into_iter().flatten()).collect()
}

/// A container's environment as (name, value), `valueFrom` entries with an empty value.
fn container_env(container: &Value) -> Vec<(String, String)> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["name"].as_str().unwrap().to_owned(), e["value"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// `name`'s value in an environment.
fn env_value<'a>(env: &'a [(String, String)], name: &str) -> &'a str {
    env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("{name} is not set"))
}

/// The compose file.
fn compose() -> Value {
    yaml_docs("deploy/compose.yaml").remove(0)
}

/// A compose service's environment as (name, value).
fn service_env(service: &Value) -> Vec<(String, String)> {
    service["environment"]
        .as_object()
        .unwrap_or_else(|| panic!("environment as a mapping: {service}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect()
}

/// The compose services running the aduan image.
fn engine_services(compose: &Value) -> Vec<(&String, &Value)> {
    let services = compose["services"].as_object().unwrap();
    services.iter().filter(|(_, s)| s["image"].as_str().is_some_and(|i| i.starts_with("aduan:"))).collect()
}

/// The `ENV` settings of deploy/Dockerfile, as (name, value).
fn dockerfile_env() -> Vec<(String, String)> {
    let text = read("deploy/Dockerfile").replace("\\\n", " ");
    text.lines()
        .filter_map(|l| l.strip_prefix("ENV "))
        .flat_map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// The value of a Dockerfile instruction (`EXPOSE`, `ARG RUST_VERSION`), continuation lines joined.
fn dockerfile_instruction(prefix: &str) -> String {
    let text = read("deploy/Dockerfile").replace("\\\n", " ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` in deploy/Dockerfile"))
        .trim()
        .to_owned()
}

/// The variables the binary reads: every `[env: NAME` in the help of the commands the files run.
fn variables_the_binary_reads() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for command in ["serve", "migrate"] {
        let out = crate::aduan(&[command, "--help"]);
        assert!(out.status.success(), "{}", crate::stderr(&out));
        for part in crate::stdout(&out).split("[env: ").skip(1) {
            names.insert(part.chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect());
        }
    }
    names
}

#[test]
fn every_aduan_variable_is_read_by_the_binary_and_documented() {
    let known = variables_the_binary_reads();
    let documented = read("docs/configuration.md");
    let mut used: Vec<(String, String)> =
        dockerfile_env().into_iter().map(|(k, _)| ("deploy/Dockerfile".into(), k)).collect();
    for workload in manifests().iter().filter(|o| o["kind"] == "Deployment" || o["kind"] == "StatefulSet") {
        for c in containers(workload) {
            used.extend(container_env(c).into_iter().map(|(k, _)| (format!("deploy/k8s {}", c["name"]), k)));
        }
    }
    let compose = compose();
    for (name, service) in engine_services(&compose) {
        used.extend(service_env(service).into_iter().map(|(k, _)| (format!("deploy/compose.yaml {name}"), k)));
    }
    let aduan: Vec<_> = used.iter().filter(|(_, k)| k.starts_with("ADUAN_")).collect();
    assert!(aduan.len() >= 10, "{used:?}");
    for (file, name) in aduan {
        assert!(known.contains(name), "{file}: {name} is not read by `aduan serve` or `aduan migrate` ({known:?})");
        assert!(documented.contains(&format!("| `{name}` |")), "{file}: {name} is not in docs/configuration.md");
    }
}

#[test]
fn images_are_this_version_and_the_pinned_nats_server() {
    let version = env!("CARGO_PKG_VERSION");
    let tools = read("deploy/tools.sh");
    let nats = tools.lines().find_map(|l| l.strip_prefix("NATS_VERSION=")).unwrap().trim_matches('"');
    let mut images = BTreeSet::new();
    for workload in manifests().iter().filter(|o| o["kind"] == "Deployment" || o["kind"] == "StatefulSet") {
        for c in containers(workload) {
            images.insert(c["image"].as_str().unwrap().to_owned());
        }
    }
    let compose = compose();
    let mut compose_images = BTreeSet::new();
    for service in compose["services"].as_object().unwrap().values() {
        compose_images.insert(service["image"].as_str().unwrap().to_owned());
    }
    assert_eq!(images, compose_images, "Kubernetes and compose run the same images");
    let aduan: Vec<_> = images.iter().filter(|i| i.starts_with("aduan:")).collect();
    assert_eq!(aduan, [&format!("aduan:{version}")], "the aduan image is this version's");
    let nats_images: Vec<_> = images.iter().filter(|i| i.starts_with("nats:")).collect();
    assert_eq!(
        nats_images,
        [&format!("nats:{nats}-alpine")],
        "the NATS image is the pinned server's (deploy/tools.sh)"
    );
    // The compose build is the Dockerfile's, from the repository root.
    for (_, service) in engine_services(&compose) {
        assert_eq!(service["build"]["dockerfile"], "deploy/Dockerfile");
        assert_eq!(service["build"]["context"], "..");
    }
    // The toolchain of the build stage is at least the workspace's rust-version.
    let rust = dockerfile_instruction("ARG RUST_VERSION=");
    let floor = read("Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let parse = |v: &str| v.split('.').map(|p| p.parse::<u32>().unwrap()).collect::<Vec<_>>();
    assert!(parse(&rust) >= parse(&floor), "Dockerfile RUST_VERSION {rust} is older than rust-version {floor}");
    // The pack the image carries is the one it is told to load.
    assert!(read("deploy/Dockerfile").contains("COPY policies/lapor /etc/aduan/lapor"));
    assert!(dockerfile_env().contains(&("ADUAN_POLICY_DIR".into(), "/etc/aduan/lapor".into())));
}

#[test]
fn ports_and_probes_are_the_ones_serve_answers_on() {
    let image_addr = dockerfile_env().into_iter().find(|(k, _)| k == "ADUAN_HTTP_ADDR").unwrap().1;
    let port: u16 = image_addr.rsplit_once(':').unwrap().1.parse().unwrap();
    assert_eq!(dockerfile_instruction("EXPOSE "), port.to_string());
    let objects = manifests();
    let deployment = object(&objects, "Deployment", "aduan");
    let serve = containers(deployment).into_iter().find(|c| c["name"] == "aduan").unwrap();
    assert_eq!(env_value(&container_env(serve), "ADUAN_HTTP_ADDR"), image_addr);
    assert_eq!(serve["ports"][0], serde_json::json!({"name": "http", "containerPort": port}));
    for (probe, path) in [("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(serve[probe]["httpGet"], serde_json::json!({"path": path, "port": "http"}), "{probe}");
    }
    assert_eq!(object(&objects, "Service", "aduan")["spec"]["ports"][0]["targetPort"], "http");
    // serve runs without migrating; the init container migrates first.
    assert_eq!(serve["args"], serde_json::json!(["--log-format", "json", "serve", "--no-migrate"]));
    let init = &deployment["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(init["args"], serde_json::json!(["--log-format", "json", "migrate"]));
    let compose = compose();
    let service = &compose["services"]["aduan"];
    assert_eq!(env_value(&service_env(service), "ADUAN_HTTP_ADDR"), image_addr);
    assert!(service["ports"][0].as_str().unwrap().ends_with(&format!(":{port}")), "{}", service["ports"]);
    assert_eq!(service["command"], serde_json::json!(["--log-format", "json", "serve", "--no-migrate"]));
    assert_eq!(compose["services"]["migrate"]["command"], serde_json::json!(["--log-format", "json", "migrate"]));
    assert_eq!(service["depends_on"]["migrate"]["condition"], "service_completed_successfully");
    // Both replicas and their disruption budget.
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(service["deploy"]["replicas"], 2);
    assert_eq!(object(&objects, "PodDisruptionBudget", "aduan")["spec"]["minAvailable"], 1);
}

#[test]
fn the_engine_lists_every_nats_node_and_keeps_three_copies() {
    let objects = manifests();
    let nats = object(&objects, "StatefulSet", "aduan-nats");
    let nodes = nats["spec"]["replicas"].as_u64().unwrap() as usize;
    assert_eq!(nodes, 3);
    let service = nats["spec"]["serviceName"].as_str().unwrap();
    let headless = object(&objects, "Service", service);
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
    let k8s_nodes: Vec<String> = (0..nodes).map(|i| format!("aduan-nats-{i}.{service}")).collect();
    let nats_env = container_env(containers(nats)[0]);
    let routes: Vec<String> = k8s_nodes.iter().map(|n| format!("nats://{n}:6222")).collect();
    assert_eq!(env_value(&nats_env, "NATS_ROUTES"), format!("[{}]", routes.join(", ")));
    let serve = containers(object(&objects, "Deployment", "aduan")).into_iter().find(|c| c["name"] == "aduan").unwrap();
    let env = container_env(serve);
    check_engine_env(&env, &k8s_nodes, nodes, "deploy/k8s/aduan.yaml");
    assert_eq!(object(&objects, "PodDisruptionBudget", "aduan-nats")["spec"]["maxUnavailable"], 1);

    let compose = compose();
    let compose_nodes: Vec<String> = (0..nodes).map(|i| format!("nats-{i}")).collect();
    for (i, name) in compose_nodes.iter().enumerate() {
        let node = &compose["services"][name];
        let env = service_env(node);
        assert_eq!(env_value(&env, "NATS_SERVER_NAME"), name);
        assert_eq!(
            env_value(&env, "NATS_ROUTES"),
            format!("[{}]", compose_nodes.iter().map(|n| format!("nats://{n}:6222")).collect::<Vec<_>>().join(", "))
        );
        assert!(node["volumes"].as_array().unwrap().contains(&Value::from(format!("nats-{i}:/data"))), "{node}");
    }
    for (name, service) in engine_services(&compose) {
        check_engine_env(&service_env(service), &compose_nodes, nodes, &format!("deploy/compose.yaml {name}"));
    }
}

/// `ADUAN_NATS_URL` names each node once with the engine's user, and the replicas match the nodes.
fn check_engine_env(env: &[(String, String)], nodes: &[String], replicas: usize, file: &str) {
    let Some((_, url)) = env.iter().find(|(k, _)| k == "ADUAN_NATS_URL") else {
        assert!(env.iter().all(|(k, _)| !k.starts_with("ADUAN_NATS")), "{file}: NATS settings without a URL");
        return; // migrate needs no NATS
    };
    let hosts: Vec<&str> = url
        .split(',')
        .map(|u| {
            let rest =
                u.strip_prefix("nats://aduan_engine:").unwrap_or_else(|| panic!("{file}: {u}: not the engine's user"));
            rest.rsplit_once('@').unwrap().1.strip_suffix(":4222").unwrap()
        })
        .collect();
    assert_eq!(hosts, nodes, "{file}: ADUAN_NATS_URL");
    assert_eq!(env_value(env, "ADUAN_NATS_REPLICAS"), replicas.to_string(), "{file}");
}

#[test]
fn the_configmap_holds_the_nats_files_byte_for_byte() {
    let objects = manifests();
    let config = object(&objects, "ConfigMap", "aduan-nats-config");
    for file in ["nats.conf", "nats-permissions.conf"] {
        assert_eq!(
            config["data"][file].as_str().unwrap_or_default(),
            read(&format!("deploy/{file}")),
            "deploy/k8s/nats.yaml's ConfigMap differs from deploy/{file}: copy the file into data.{file} (indented by 4)"
        );
    }
    let mounted = &containers(object(&objects, "StatefulSet", "aduan-nats"))[0]["volumeMounts"];
    assert!(mounted.as_array().unwrap().iter().any(|m| m["mountPath"] == "/etc/nats"), "{mounted}");
}

/// The `HEALTHCHECK … CMD [...]` of deploy/Dockerfile, as the exec form's arguments.
fn healthcheck_command() -> Vec<String> {
    let line = dockerfile_instruction("HEALTHCHECK ");
    let json = &line[line.find("CMD [").expect("HEALTHCHECK in exec form") + 4..];
    serde_json::from_str(json).unwrap_or_else(|e| panic!("HEALTHCHECK CMD {json}: {e}"))
}

#[test]
fn the_image_healthcheck_tells_a_live_serve_from_a_stopped_one() {
    let command = healthcheck_command();
    let run = |addr: &str| {
        let mut cmd = Command::new(&command[0]);
        cmd.args(&command[1..])
            .env("ADUAN_HTTP_ADDR", addr)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = aduan_testkit::process::spawn(cmd).expect("bash runs");
        child.wait_with_output().unwrap().status.success()
    };
    let mut server = Server::start_with(Db::Sqlite, &["--no-workers"]);
    let addr = format!("0.0.0.0:{}", server.base.rsplit_once(':').unwrap().1);
    assert!(run(&addr), "the HEALTHCHECK fails against a live serve at {addr}");
    assert_eq!(server.get("/readyz").status, 200);
    server.stop();
    assert!(!run(&addr), "the HEALTHCHECK passes with serve stopped");
}
