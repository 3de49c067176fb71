"""LiveCodeBench from the hub without its dataset script (which datasets >= 4 refuses): its release files at a
pinned revision, read with huggingface_hub, with `func_name` inside the JSON string `metadata` as the hub holds it
and hidden tests as base64 of zlib of a pickled JSON string. The hub is unreachable here, so a local HTTP server
answers huggingface_hub's requests (HF_ENDPOINT) with files built from the mirror's problems in the hub's layout."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import pickle
import subprocess
import sys
import threading
import zlib

import pytest

from rlvr_eval.data.benchmarks import read_jsonl
from rlvr_eval.data.livecodebench import LIVECODEBENCH_RELEASE_FILES

REVISION = "0123456789abcdef0123456789abcdef01234567"
HIDDEN = [{"input": "[1, 2]", "output": "3", "testtype": "functional"}]


def hub_row(row: dict, hidden: bool) -> dict:
    """A mirror row as the hub's release files hold it."""
    out = {k: v for k, v in row.items() if k != "func_name"}
    out["public_test_cases"] = json.dumps(row["public_test_cases"])
    out["metadata"] = json.dumps({"func_name": row["func_name"]} if row["func_name"] else {})
    out["private_test_cases"] = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(HIDDEN)))).decode() if hidden else ""
    return out


class HubFiles(http.server.BaseHTTPRequestHandler):
    """/datasets/<repo>/resolve/<revision>/<file>, with the headers huggingface_hub reads (commit, etag, size)."""
    files: dict[str, bytes] = {}

    def _answer(self, body: bool):
        prefix = f"/datasets/livecodebench/code_generation_lite/resolve/{REVISION}/"
        data = self.files.get(self.path[len(prefix):]) if self.path.startswith(prefix) else None
        if data is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("X-Repo-Commit", REVISION)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_HEAD(self):
        self._answer(body=False)

    def do_GET(self):
        self._answer(body=True)

    def log_message(self, *args):
        pass


@pytest.fixture
def hub(mirror):
    rows = read_jsonl(mirror / "livecodebench/test_public.jsonl")
    functional = next(i for i, r in enumerate(rows) if r["func_name"] and r["contest_date"] >= "2024-08")
    converted = [hub_row(r, hidden=i == functional) for i, r in enumerate(rows)]
    names = LIVECODEBENCH_RELEASE_FILES["release_v5"]
    chunks = [converted[i::len(names)] for i in range(len(names))]  # each release file a share of the problems
    HubFiles.files = {n: "".join(json.dumps(r) + "\n" for r in chunk).encode() for n, chunk in zip(names, chunks)}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HubFiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", rows[functional]["question_id"], [
        r["question_id"] for chunk in chunks for r in chunk]  # the release files' order
    server.shutdown()


LOAD = """
import json, sys
from rlvr_eval.code.livecodebench import tests_of
from rlvr_eval.data.benchmarks import load_benchmark
mirror = load_benchmark("livecodebench", sys.argv[1])[0]
hub, provenance = load_benchmark("livecodebench", None, hub_revision=sys.argv[2])
wide, wide_provenance = load_benchmark("livecodebench_2023_05", None, hub_revision=sys.argv[2])
print(json.dumps({"mirror": mirror.drop(columns="metadata").to_dict("records"),
                  "wide": wide["problem_id"].tolist(), "wide_window": wide_provenance["source"]["window"],
                  "hub": hub.drop(columns="metadata").to_dict("records"), "source": provenance["source"],
                  "hub_tests": {r.problem_id: tests_of(json.loads(r.metadata)) for r in hub.itertuples()}}))
"""


def test_livecodebench_loads_from_the_hubs_release_files_as_from_the_mirror(tmp_path, mirror, hub):
    endpoint, with_hidden, release_order = hub
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "0",
           "HF_HUB_DISABLE_XET": "1"}
    run = subprocess.run([sys.executable, "-c", LOAD, str(mirror), REVISION], capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(out["mirror"]) == 279 and out["source"]["revision"] == REVISION
    assert out["source"]["files"] == ["test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl"]
    # the same problems, questions and references: functional problems keep their method name (from `metadata`)
    by_id = {r["problem_id"]: r for r in out["hub"]}
    assert sorted(by_id) == sorted(r["problem_id"] for r in out["mirror"])
    assert all(by_id[r["problem_id"]] == r for r in out["mirror"])
    assert sum(r["reference"] != "stdin" for r in out["hub"]) > 0
    tests, test_set = out["hub_tests"][with_hidden]  # its hidden tests decoded after the public ones
    assert test_set == "public + hidden" and tests[-1] == HIDDEN[0]
    assert {s for _, s in out["hub_tests"].values()} == {"public", "public + hidden"}
    # the wider window (Fig. 11 right, Table 5): every problem, in the order of the release files read one by one
    assert out["wide"] == release_order and len(out["wide"]) == 879 and out["wide_window"] == ["2023-05", "2025-01"]
