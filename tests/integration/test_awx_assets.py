"""AWX assets: the credential type injects what the collection reads, every survey question is a
documented variable of its playbook with a matching type, ansible-builder accepts the execution
environment, and ansible-runner (AWX's engine) runs a playbook against the simulator with per-task,
per-host events."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import BIN, REPO

TEMPLATES = sorted((REPO / "awx" / "job_templates").glob("*.yml"))
SURVEY_TYPES = {"text": "str", "textarea": "str", "password": "str", "integer": "int", "float": "float",
                "multiplechoice": "str", "multiselect": "list"}


def load(path):
    return yaml.safe_load(path.read_text())


def documented_options(playbook):
    """Variables the playbook documents: its roles' meta/argument_specs.yml, or its own spec file."""
    options = {}
    for play in load(playbook):
        for role in play.get("roles") or []:
            name = (role["role"] if isinstance(role, dict) else role).split(".")[-1]
            options.update(load(REPO / "roles" / name / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"])
        for task in play.get("tasks") or []:
            included = (task.get("ansible.builtin.include_role") or task.get("ansible.builtin.import_role") or {}).get("name")
            if included:
                options.update(load(REPO / "roles" / included.split(".")[-1] / "meta" / "argument_specs.yml")
                               ["argument_specs"]["main"]["options"])
        for vars_file in play.get("vars_files") or []:
            options.update(load(playbook.parent / vars_file)["argument_specs"]["main"]["options"])
    return options


def test_credential_type_injects_the_collection_environment():
    credential = load(REPO / "awx" / "credential_types" / "modelarts_lite.yml")
    env = credential["injectors"]["env"]
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID", "HUAWEICLOUD_SDK_REGION",
                 "MODELARTS_LITE_ENDPOINT", "MODELARTS_LITE_CA_PATH", "KUBECONFIG"):
        assert name in env, name
    fields = {f["id"]: f for f in credential["inputs"]["fields"]}
    assert fields["secret_key"]["secret"] is True and fields["security_token"]["secret"] is True
    # every injected template names a declared input (or an injected file)
    for value in list(env.values()) + list(credential["injectors"]["file"].values()):
        reference = value.strip("{} ")
        assert reference in fields or reference.startswith("tower.filename."), value


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.stem for t in TEMPLATES])
def test_survey_matches_the_playbook_variables(template):
    spec = load(template)
    playbook = REPO / spec["playbook"]
    assert playbook.exists(), spec["playbook"]
    options = documented_options(playbook)
    assert spec["survey_spec"]["spec"], "a survey with no question"
    for question in spec["survey_spec"]["spec"]:
        name = question["variable"]
        assert name in options, "%s: %s is not documented by %s" % (template.name, name, playbook.name)
        option = options[name]
        wanted = option.get("type", "str")
        if question["type"] == "multiplechoice" and set(question["choices"]) <= {"true", "false"}:
            assert wanted == "bool", name
            continue
        assert SURVEY_TYPES[question["type"]] == wanted, "%s: survey type %s, documented %s" % (name, question["type"], wanted)
        if question["type"] in ("multiplechoice", "multiselect") and option.get("choices"):
            assert set(question["choices"]) <= set(option["choices"]), name
        if option.get("required"):
            assert question.get("required") is True, "%s is required by the playbook" % name


def test_ansible_builder_create(tmp_path):
    context = tmp_path / "context"
    result = subprocess.run([str(BIN / "ansible-builder"), "create", "-f", str(REPO / "meta" / "execution-environment.yml"),
                             "-c", str(context), "-v3"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    build_file = next(p for p in (context / "Containerfile", context / "Dockerfile") if p.exists())
    assert "quay.io/ansible/awx-ee" in build_file.read_text()
    assert (context / "_build" / "requirements.txt").exists(), result.stdout
    requirements = (context / "_build" / "requirements.txt").read_text()
    assert "kubernetes" in requirements and "requests" in requirements
    # The collection comes from this repository's tarball (build/dist), not from Galaxy.
    assert "/tmp/modelarts-lite/modelarts-lite.tar.gz" in (context / "_build" / "requirements.yml").read_text()
    shipped = list((context / "_build" / "collections").glob("modelarts-lite-*.tar.gz"))
    assert [p.name for p in shipped] == [p.name for p in (REPO / "build" / "dist").glob("modelarts-lite-*.tar.gz")]
    assert len(shipped) == 1
    steps = build_file.read_text()
    assert "COPY _build/collections/ /tmp/modelarts-lite/" in steps
    assert steps.index("COPY _build/collections/") < steps.index("ansible-galaxy collection install")


def run_under_ansible_runner(sim, private, playbook, ident, extravars):
    """Lay out an ansible-runner private data dir the way AWX does and run one playbook in it."""
    (private / "project").mkdir(parents=True)
    shutil.copy(REPO / "playbooks" / playbook, private / "project" / playbook)
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                                                 % sys.executable)
    (private / "env").mkdir()
    env = dict(sim.env_vars(), ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH",
                                                                       str(REPO / "build" / "install")))
    (private / "env" / "envvars").write_text(json.dumps(env))
    (private / "env" / "extravars").write_text(json.dumps(extravars))
    return subprocess.run([str(BIN / "ansible-runner"), "run", str(private), "-p", playbook, "--ident", ident],
                          capture_output=True, text=True, check=False,
                          env=dict(os.environ, PATH="%s:%s" % (BIN, os.environ.get("PATH", ""))))


def test_ansible_runner_events_show_each_task_and_host(sim, tmp_path):
    """The provision playbook under ansible-runner, as AWX runs it: the event stream has
    runner_on_ok per task and host, and the job succeeds."""
    private = tmp_path / "runner"
    result = run_under_ansible_runner(sim, private, "provision.yml", "it", {
        "provision_verify_delay": 1,
        "provision_pools": [{"name": "runner-a", "vpc_id": "v", "subnet_id": "s", "clusters": ["c"],
                             "user_login": {"key_pair_name": "kp"},
                             "node_pools": [{"name": "np", "flavor": "modelarts.bm.npu.arm.8snt9b3.d", "count": 1}]}]})
    assert result.returncode == 0, result.stdout[-4000:]
    events = [json.loads(p.read_text()) for p in sorted((private / "artifacts" / "it" / "job_events").glob("*.json"))]
    ok_tasks = {e["event_data"]["task"] for e in events if e["event"] == "runner_on_ok"}
    assert any("Create or scale each pool" in t for t in ok_tasks), ok_tasks
    assert {e["event_data"].get("host") for e in events if e["event"] == "runner_on_ok"} == {"localhost"}
    assert (private / "artifacts" / "it" / "status").read_text().strip() == "successful"


def test_ansible_runner_shows_rolling_upgrade_progress_per_node(sim, tmp_path):
    """The rolling upgrade playbook under ansible-runner: while the job runs, the event stream
    carries each node's transitions (one loop item per progress tick), and the report reaches
    AWX as set_stats artifact data."""
    pool = sim.seed([{"name": "runner-roll", "nodes": 3, "driver_version": "7.1.0.9.220-23.0.6",
                      "workloads": {"ready_nodes": True,
                                    "deployments": [{"name": "web", "replicas": 2, "pdb": {"minAvailable": 1}}]}}]
                    )["pools"][0]
    private = tmp_path / "runner"
    result = run_under_ansible_runner(sim, private, "rolling_driver_upgrade.yml", "roll", {
        "rolling_driver_upgrade_pool": pool["id"], "rolling_driver_upgrade_driver_version": "7.5.0.5.220-24.1.0.3",
        "rolling_driver_upgrade_progress_interval": 1, "rolling_driver_upgrade_report_dir": str(tmp_path),
        # A one-second smoke check per node keeps the run going for several progress ticks.
        "rolling_driver_upgrade_smoke_command": ["sleep", "1"]})
    assert result.returncode == 0, result.stdout[-4000:]
    events = [json.loads(p.read_text()) for p in sorted((private / "artifacts" / "roll" / "job_events").glob("*.json"),
                                                        key=lambda p: int(p.name.split("-")[0]))]
    progress = [e for e in events if e["event"] == "runner_item_on_ok"
                and "Rollout progress" in e["event_data"].get("task", "")]
    assert len(progress) >= 2, "progress must arrive as several events while the run goes"
    text = "\n".join(json.dumps(e["event_data"]["res"]) for e in progress)
    for ip in pool["private_ips"].values():
        assert ip in text, "no progress event names node %s" % ip
    stats = [e for e in events if e["event"] == "playbook_on_stats"][-1]
    assert stats["event_data"]["artifact_data"]["rolling_driver_upgrade"]["status"] == "succeeded"


def test_builder_requirements_copy_is_current():
    """ansible-builder reads meta/requirements.txt, introspection of an installed collection reads
    requirements.txt: they must say the same."""
    assert (REPO / "meta" / "requirements.txt").read_text() == (REPO / "requirements.txt").read_text()
