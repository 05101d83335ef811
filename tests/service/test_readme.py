"""The README's curl examples, run as written against `streamml serve`.

Each ```bash block of the service section is run with bash against a real `streamml serve`
(the lines starting the server are left out: the test starts them, on free ports), every
`curl` failing on an HTTP error; a ```json or ```text block right after a block is its exact
output.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import httpx
import pytest

from .helpers import free_port, wait_ready

REPO = pathlib.Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```(bash|json|text)\n(.*?)```", re.S)


def service_text() -> str:
    for path in (REPO / "README.md", REPO / "service" / "README-section.md"):
        if path.exists() and "curl -sS -X POST http://127.0.0.1:8000/v1/predict" in (
            text := path.read_text()
        ):
            return text
    pytest.fail("no README with the service's curl examples")


def examples(text: str) -> list[tuple[str, str | None]]:
    """(bash block with curl commands, expected output or None), in order."""
    blocks = BLOCK.findall(text)
    out = []
    for k, (kind, body) in enumerate(blocks):
        if kind != "bash" or "curl " not in body:
            continue
        expected = blocks[k + 1][1].strip() if k + 1 < len(blocks) else None
        is_output = k + 1 < len(blocks) and blocks[k + 1][0] in ("json", "text")
        lines = [line for line in body.splitlines() if " serve " not in f" {line} "]
        out.append(("\n".join(lines), expected if is_output else None))
    return out


def start(port, data_dir, log, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("STREAMML_")}
    environ.update(env)
    cmd = [sys.executable, "-m", "streamml", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--data-dir", str(data_dir)], env=environ, stdout=log, stderr=subprocess.STDOUT
    )
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        wait_ready(client, timeout=60)
    return proc


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_examples_work_as_written(tmp_path):
    blocks = examples(service_text())
    assert len(blocks) >= 5
    ports = {"8000": free_port(), "8001": free_port()}
    with open(tmp_path / "servers.log", "wb") as log:
        servers = [
            start(ports["8000"], tmp_path / "a", log),
            start(ports["8001"], tmp_path / "b", log, STREAMML_TOKEN="s3cret"),
        ]
        try:
            for script, expected in blocks:
                script = re.sub(
                    r"127\.0\.0\.1:(800[01])", lambda m: f"127.0.0.1:{ports[m[1]]}", script
                )
                script = script.replace("curl ", "curl --fail-with-body ")
                run = subprocess.run(
                    ["bash", "-e", "-c", script], capture_output=True, text=True, timeout=60
                )
                assert run.returncode == 0, (script, run.stdout, run.stderr)
                if expected is not None:
                    assert run.stdout.strip() == expected, script
            # the token is really needed on the second server
            learn = ["-X", "POST", f"http://127.0.0.1:{ports['8001']}/v1/learn"]
            body = ["-H", "Content-Type: application/json", "-d", '{"id": "x", "labels": []}']
            status = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", *learn, *body],
                capture_output=True,
                text=True,
            )
            assert status.stdout == "401"
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=60)


def test_the_readme_shows_the_status_of_a_learn_and_of_its_duplicate():
    """The statuses are checked by the test above, which runs the examples as written."""
    expected = [out for _, out in examples(service_text()) if out and "HTTP " in out]
    assert any('"duplicate":false' in out and out.endswith("HTTP 202") for out in expected)
    assert any('"duplicate":true' in out and out.endswith("HTTP 200") for out in expected)
