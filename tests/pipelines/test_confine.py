"""A pipeline file reads only inside its project folder or the folders it allows
(``allowed_paths:``); refusals name the path and the key, never a file's contents."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidegate import Pipeline
from tidegate.cli import app
from tidegate.contracts import load_contract
from tidegate.errors import ContractError, PipelineError, SourceConfigError
from tidegate.pipelines import load_pipeline

runner = CliRunner()
SECRET = "root-canary:x:0:0:do-not-echo"


def _project(tmp_path: Path, project_root: Path, pipeline: str) -> Path:
    project = tmp_path / "project"
    (project / "pipelines").mkdir(parents=True)
    (project / "schemas").mkdir()
    (project / "data").mkdir()
    (project / "schemas" / "orders.yaml").write_text(
        (project_root / "schemas" / "orders.yaml").read_text()
    )
    (project / "data" / "a.csv").write_text("order_id,status,amount,order_date\n")
    (project / "pipelines" / "orders.yaml").write_text(pipeline)
    return project


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the project holding a file that must never be read or quoted."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "passwd").write_text(SECRET + "\nsecond:line\n")
    (folder / "c.csv").write_text("order_id,status,amount,order_date\n1,pending,1,2024-01-01\n")
    return folder


def _flat(output: str) -> str:
    return " ".join(output.split())


@pytest.mark.parametrize(
    "source",
    [
        "{kind: file, path: OUTSIDE/passwd, format: csv}",
        "{kind: file, path: ../elsewhere/passwd, format: csv}",
        "{kind: file, path: ../../../../../../../../OUTSIDE/passwd, format: csv}",
        "{kind: file, path: 'OUTSIDE/*', format: csv}",
        "{kind: file, path: 'data/*/../../../elsewhere/passwd', format: csv}",
        "{kind: landing, folder: OUTSIDE, pattern: '*'}",
        "{kind: landing, folder: data, pattern: '../../elsewhere/*'}",
        "{kind: sql, url: 'sqlite:///OUTSIDE/passwd', table: t}",
    ],
)
def test_a_source_outside_the_project_is_refused_by_run_check_and_doctor(
    tmp_path: Path, project_root: Path, outside: Path, source: str
) -> None:
    where = str(outside).lstrip("/") if "../" in source else str(outside)
    source = source.replace("OUTSIDE", where)
    project = _project(
        tmp_path, project_root, f"name: orders\nsource: {source}\ncontract: schemas/orders.yaml\n"
    )
    store = tmp_path / "s.duckdb"
    run = runner.invoke(app, ["run", "orders", "--project", str(project), "--store", str(store)])
    assert run.exit_code == 2, run.output
    out = _flat(run.output)
    assert "source." in out and "allowed_paths" in out and SECRET not in out
    assert not store.exists()  # refused before anything ran
    check = runner.invoke(app, ["schema", "check", "--project", str(project)])
    assert check.exit_code == 2 and "allowed_paths" in _flat(check.output)
    doctor = runner.invoke(app, ["doctor", "--project", str(project)])
    assert doctor.exit_code != 0 and "allowed_paths" in _flat(doctor.output)
    assert SECRET not in doctor.output


def test_allowed_paths_lets_a_pipeline_read_a_folder_outside(
    tmp_path: Path, project_root: Path, outside: Path
) -> None:
    project = _project(
        tmp_path,
        project_root,
        f"name: orders\nallowed_paths: [{outside}]\n"
        f"source: {{kind: file, path: {outside}/c.csv}}\ncontract: schemas/orders.yaml\n",
    )
    spec = load_pipeline(project / "pipelines" / "orders.yaml", project)
    assert outside.resolve() in spec.allowed_paths
    result = runner.invoke(
        app, ["run", "orders", "--project", str(project), "--store", str(tmp_path / "s.duckdb")]
    )
    assert result.exit_code in (0, 3) and "c.csv" in result.output, result.output  # read


def test_a_symlinked_folder_that_leaves_the_project_is_refused(
    tmp_path: Path, project_root: Path, outside: Path
) -> None:
    project = _project(
        tmp_path,
        project_root,
        "name: orders\nsource: {kind: file, path: 'link/*.csv'}\ncontract: schemas/orders.yaml\n",
    )
    (project / "link").symlink_to(outside)
    with pytest.raises(PipelineError, match="outside the project folder"):
        load_pipeline(project / "pipelines" / "orders.yaml", project)


@pytest.mark.parametrize("contract", ["OUTSIDE/passwd", "../elsewhere/passwd"])
def test_a_contract_outside_the_project_is_refused_without_its_contents(
    tmp_path: Path, project_root: Path, outside: Path, contract: str
) -> None:
    contract = contract.replace("OUTSIDE", str(outside))
    project = _project(
        tmp_path,
        project_root,
        f"name: orders\nsource: {{kind: file, path: data/a.csv}}\ncontract: {contract}\n",
    )
    for args in (["run", "orders"], ["schema", "check"], ["doctor"]):
        result = runner.invoke(app, [*args, "--project", str(project)])
        assert result.exit_code != 0, args
        out = _flat(result.output)
        assert "contract:" in out and "allowed_paths" in out, (args, out)
        assert "root-canary" not in out, args
    with pytest.raises(PipelineError, match="outside the project folder"):
        load_pipeline(project / "pipelines" / "orders.yaml", project)


def test_a_file_that_is_not_a_contract_is_refused_without_quoting_it(outside: Path) -> None:
    (outside / "creds.yaml").write_text("password: hunter2-canary\n")
    for name in ("passwd", "creds.yaml"):
        with pytest.raises(ContractError) as caught:
            load_contract(outside / name)
        assert "canary" not in str(caught.value) and "not a contract" in str(caught.value)


def test_allowed_paths_must_be_a_list_of_folders(tmp_path: Path, project_root: Path) -> None:
    project = _project(
        tmp_path,
        project_root,
        "name: orders\nallowed_paths: /data\nsource: {kind: file, path: data/a.csv}\n"
        "contract: schemas/orders.yaml\n",
    )
    with pytest.raises(PipelineError, match="allowed_paths: '/data' is not valid"):
        load_pipeline(project / "pipelines" / "orders.yaml", project)


@pytest.mark.parametrize(
    "source",
    ["{kind: file, path: 'data/*.csv'}", "{kind: landing, folder: data, settle_seconds: 0}"],
    ids=["file", "landing"],
)
def test_a_matched_file_that_links_out_of_the_project_is_refused(
    tmp_path: Path, project_root: Path, outside: Path, source: str
) -> None:
    project = _project(
        tmp_path, project_root, f"name: orders\nsource: {source}\ncontract: schemas/orders.yaml\n"
    )
    (project / "data" / "b.csv").symlink_to(outside / "passwd")
    store = tmp_path / "s.duckdb"
    run = runner.invoke(app, ["run", "orders", "--project", str(project), "--store", str(store)])
    out = _flat(run.output)
    assert run.exit_code == 2, out
    assert "b.csv" in out and "allowed_paths" in out and SECRET not in out
    with pytest.raises(SourceConfigError, match="outside the project folder"):
        Pipeline.from_project("orders", project, tmp_path / "p.duckdb").run()
    assert not store.exists()
