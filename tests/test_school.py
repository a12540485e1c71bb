"""The school deployment: the inference switch, its wire format, and a real local Ray Serve.

Without Ray: ATTN_LAB_INFERENCE parsing, exact codec round trips, fast translated failures
when Serve is absent (CLI and BERT page). With Ray (requirements-school.txt): a local
cluster and the Serve app of deploy/serve_app.py; every call equals the embedded one number
for number; a Serve replica killed during requests fails none of them; stopping Ray turns
calls into the translated "unreachable" message at once.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from lmcore import inference
from lmcore.errors import UserFacingError
from lmcore.i18n import translate
from lmcore.inference import codec
from lmcore.inference.calls import CALLS
from lmcore.inference.embedded import Embedded
from ui.safe_text import md_escape
from ui.school import previous_session_id, restarted

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("one_thread")

# One small case per call (the bundled tiny models; translators are the committed ones).
CASES = {
    "attention": ("tiny-bert", "the cat sat on the mat", "it was happy", 64),
    "head_report": ("tiny-bert", "the cat sat on the mat", None, True, True, 64),
    "fill_mask": ("tiny-bert", "the [MASK] sat on the mat", 5),
    "next_sentence": ("tiny-bert", "the cat sat", "it was happy"),
    "next_token": ("tiny-gpt2", "the cat", 5, 0.8),
    "generation": ("tiny-gpt2", "the cat", 4, 5, 1.0, 3),
    "translate": ("s2s-en-fr-bahdanau", "the cat is here .", 2, 5),
    "transformer_view": ("tf-en-fr", "the cat is here .", 1),
    "encoder_view": ("s2s-en-fr-plain", "the cat is here ."),
    "next_token_logits": ("tiny-gpt2", "the cat"),
    "logit_lens": ("tiny-gpt2", "the cat sat", 3, 64),
    "heads_off_ranking": ("tiny-gpt2", "the cat sat", None),
    "heads_off_before_after": ("tiny-gpt2", "the cat sat", ((0, 1), (1, 0))),
    "kv_cache_steps": ("tiny-gpt2", "the cat", 3),
    "sentence_maps": ("s2s-en-fr-bahdanau", "the cat is here ."),
}
TIMED = {"kv_cache_steps": ("cached_seconds", "uncached_seconds")}  # measured on the spot: not compared


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_call_has_a_case():
    assert set(CASES) == set(CALLS)


@pytest.mark.parametrize("value, expected", [
    ("", None), ("embedded", None), ("http://127.0.0.1:8665", "http://127.0.0.1:8665"),
    ("ray://10.0.0.5:10001/", "ray://10.0.0.5:10001")])
def test_address_accepts_embedded_http_and_ray(monkeypatch, value, expected):
    monkeypatch.setenv(inference.ENV, value)
    assert inference.address() == expected


@pytest.mark.parametrize("value", ["serve", "ftp://host:1", "http://host", "ray://:10001", "http://h:port"])
def test_a_malformed_address_is_a_translated_error(monkeypatch, value):
    monkeypatch.setenv(inference.ENV, value)
    with pytest.raises(UserFacingError) as caught:
        inference.address()
    assert caught.value.key == "school.err.bad_address"
    assert value in caught.value.message("ko") and "ATTN_LAB_INFERENCE" in caught.value.message("en")


def test_codec_keeps_named_tuples_and_refuses_foreign_ones():
    steps = Embedded().kv_cache_steps(*CASES["kv_cache_steps"])
    back = codec.loads(codec.dumps(steps))
    assert type(back) is type(steps) and np.array_equal(back.maps.weights, steps.maps.weights)
    assert back._replace(maps=None) == steps._replace(maps=None)
    with pytest.raises(ValueError):
        codec.from_wire({"__nt__": "os:terminal_size", "items": [1, 2]})


def test_codec_is_exact_and_rebuilds_only_lmcore_classes():
    result = Embedded().attention(*CASES["attention"])
    back = codec.loads(codec.dumps(result))
    assert back.maps.weights.dtype == np.float32
    assert np.array_equal(back.maps.weights, result.maps.weights)
    assert back.encoded == result.encoded and back.notices == result.notices
    assert codec.loads(codec.dumps((1.0 / 3, np.float32(0.1), {2: "x"}))) == (1.0 / 3, np.float32(0.1), {2: "x"})
    with pytest.raises(ValueError):
        codec.from_wire({"__dc__": "subprocess:Popen", "fields": {}})


def test_unreachable_serve_fails_fast_with_a_translated_message(monkeypatch):
    monkeypatch.setenv(inference.ENV, f"http://127.0.0.1:{free_port()}")
    start = time.monotonic()
    for _ in range(2):  # the second call is refused at once (cool-down), no new wait
        with pytest.raises(UserFacingError) as caught:
            inference.backend().attention("tiny-bert", "the cat")
        assert caught.value.key == "school.err.unreachable"
    assert time.monotonic() - start < 30, "no hang on a dead model server"
    with pytest.raises(UserFacingError):
        inference.check()


def test_cli_says_a_bad_setting_in_one_line(monkeypatch, capsys):
    from lmcore.cli import main

    monkeypatch.setenv(inference.ENV, "serve-please")
    assert main(["--lang", "ko", "models"]) == 2
    assert capsys.readouterr().err.strip() == translate("school.err.bad_address", "ko", value="serve-please")


def test_bert_page_with_serve_down_says_so_in_both_languages(monkeypatch):
    from tests.page_support import run_page

    monkeypatch.setenv(inference.ENV, f"http://127.0.0.1:{free_port()}")
    for lang in ("en", "ko"):
        at = run_page(str(ROOT / "pages" / "bert.py"), lang, timeout=120,  # a text no cache holds
                      text=f"Serve is down, says the {lang} page.")
        assert not at.exception
        shown = [e.value for e in at.error]
        address = inference.address()
        assert translate("school.err.unreachable", lang, address=md_escape(address)) in shown  # st.error: escaped


def test_restart_is_a_resumed_session_this_server_never_had():
    assert previous_session_id("streamlit, tok, abc") == "abc"
    assert not restarted("streamlit, tok", "new")          # fresh visit or shared link
    assert not restarted("streamlit, tok, same", "same")   # reconnect to the same replica
    assert restarted("streamlit, tok, gone", "new")        # its replica died: a new session


# ---------------------------------------------------------------- a real local Ray Serve
@pytest.fixture(scope="module")
def serve_app():
    ray = pytest.importorskip("ray")
    from ray import serve

    from deploy.serve_app import deploy
    from lmcore.inference.serve_client import ServeBackend

    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    # On a loaded machine the raylet gave up waiting for its dashboard agent (~16 s) and crashed.
    os.environ.setdefault("RAY_agent_register_timeout_ms", "120000")
    for attempt in (1, 2, 3):  # a busy machine can miss Ray's fixed 30 s raylet start window
        try:
            ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20,
                     resources={"attnlab_training": 1},  # K = 1 training slot (tests/school_jobs.py)
                     namespace="serve", logging_level="WARNING")
            break
        except Exception:  # noqa: BLE001 - "The current node timed out during startup"
            ray.shutdown()
            if attempt == 3:
                raise
    port = free_port()
    deploy(replicas=2, http_port=port)
    client = ServeBackend(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 90
    while not client.ping() and time.monotonic() < deadline:
        time.sleep(0.5)
    yield client
    if ray.is_initialized():
        serve.shutdown()
        ray.shutdown()


def _same(a, b) -> bool:
    return codec.dumps(a) == codec.dumps(b)  # float32 bytes and float reprs: number for number


def _untimed(call: str, result):
    """The result with its wall-clock timings (if the call measures any) set to 0."""
    return result._replace(**dict.fromkeys(TIMED[call], 0.0)) if call in TIMED else result


def test_serve_equals_embedded_for_every_call(serve_app):
    local = Embedded()
    for call, args in CASES.items():
        served, here = getattr(serve_app, call)(*args), getattr(local, call)(*args)
        assert type(served) is type(here) and _same(_untimed(call, served), _untimed(call, here)), call
    served = serve_app.attention(*CASES["attention"])
    assert np.array_equal(served.maps.weights, local.attention(*CASES["attention"]).maps.weights)


def test_the_handle_path_used_by_ray_addresses_gives_the_same_numbers(serve_app):
    from lmcore.inference.serve_client import _RayTransport

    transport = _RayTransport("ray://unused:1")  # Ray is initialised here: the handle directly
    assert transport.ping(30)
    args = dict(zip(CALLS["attention"], CASES["attention"]))
    raw = transport.call("attention", codec.dumps(args), 60)  # the @serve.batch path
    served = codec.from_wire(json.loads(raw)["ok"])
    assert _same(served, Embedded().attention(*CASES["attention"]))


def test_bad_input_through_serve_is_the_same_translated_error(serve_app):
    with pytest.raises(UserFacingError) as served:
        serve_app.attention("tiny-bert", "   ")
    with pytest.raises(UserFacingError) as local:
        Embedded().attention("tiny-bert", "   ")
    assert (served.value.key, served.value.params) == (local.value.key, local.value.params)


def _replica_pids() -> list[int]:
    """Processes of the Serve replicas (Ray titles them ray::ServeReplica:<app>:<deployment>)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"ServeReplica:attention_lab" in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def _two_replicas(timeout: float = 90.0) -> list[int]:
    """The two replicas' pids, once Serve has both running again (it restarts a killed one)."""
    deadline = time.monotonic() + timeout
    while len(pids := _replica_pids()) != 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    return pids


def test_killing_a_serve_replica_during_requests_fails_none(serve_app, caplog):
    """Kill a replica while requests run: none fails, every answer is the embedded one. Whether
    the kill lands on a request in flight is timing (on a quick machine the queue may drain
    first), so a round whose kill hit nothing is repeated, up to three rounds."""
    case = ("tiny-gpt2", "the cat", 24, 5, 1.0, 3)  # long enough that the kill lands mid-request
    expected = Embedded().generation(*case)
    hit = False
    with caplog.at_level("WARNING", "lmcore.inference.serve_client"):
        for _ in range(3):
            pids = _two_replicas()
            assert len(pids) == 2
            with ThreadPoolExecutor(4) as pool:
                futures = [pool.submit(serve_app.generation, *case) for _ in range(16)]
                futures[0].result()  # both replicas busy now, requests queued behind them
                os.kill(pids[0], signal.SIGKILL)
                results = [f.result() for f in futures]  # raises if any request failed
            assert all(_same(r, expected) for r in results)
            hit = any("attempt 1" in r.getMessage() for r in caplog.records)
            if hit:
                break
    assert hit, "in three rounds no kill landed on a request in flight"


# ---------------------------------------------------------------- training jobs on this cluster
from tests.school_jobs import (  # noqa: E402,F401 - collected here: this cluster, before Ray stops
    on_ray, test_a_cluster_without_training_slots_is_a_translated_message,
    test_a_tiny_fine_tune_runs_as_a_ray_task_and_comes_back_as_a_model_folder,
    test_the_page_says_a_queued_job_waits_for_a_slot_and_cancel_works_meanwhile,
    test_with_one_slot_the_second_job_waits_queued_then_runs)


def test_stopping_ray_makes_calls_fail_fast(serve_app):
    import ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()
    start = time.monotonic()
    with pytest.raises(UserFacingError) as caught:
        serve_app.next_token(*CASES["next_token"])
    assert caught.value.key == "school.err.unreachable"
    assert time.monotonic() - start < 30 and not serve_app.ping()
