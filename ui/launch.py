"""Start the app: `python -m ui.launch [streamlit options]` = `streamlit run app.py ...`.

Why not plain `streamlit run app.py`: when a `pages/` folder sits beside the main script,
Streamlit runs the very first session of a fresh server in its old folder-based multipage
mode (PagesManager.uses_pages_directory), before app.py's st.navigation takes over. The first
visitor then sees a stray "Page not found" dialog on a shared deep link, or the raw file names
in the sidebar. st.navigation turns that mode off itself after its first run; this launcher
turns it off before the first run. Everything else is `streamlit run`.

Page runs use one torch (OpenMP) thread each unless OMP_NUM_THREADS says otherwise: a class runs
many sessions at once, and two OpenMP threads per run spin-wait for a busy partner core.
Measured with `bench.classroom --cpu` (server CPU s per action, one session, busy 2-core machine):
BERT open 0.47 -> 0.09, GPT open 0.99 -> 0.19, Translation step by step open 2.0 -> 0.41.
Training and fine-tuning jobs set their own thread count (ui/seq2seq_jobs, ui/finetune_jobs).

No outside request at start-up: headless Streamlit asks an outside service for the machine's
external IP at every start (and prints "Did not auto detect external IP" offline). The launcher
answers that question with None before Streamlit runs, and prints its own banner after
Streamlit's: where to open the app here, and how students on the same network connect.

A fragment rerun's new_session message leaves out the page list, which the browser ignores then
(ui/lean_session.py): ~1.7 kB less per step or picker.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from streamlit import config, net_util
from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import bootstrap, cli
from streamlit.web.server.starlette import starlette_server

from lmcore.errors import UserFacingError
from lmcore.i18n import translate
from ui import lean_session

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE_THREADS = "1"  # OpenMP threads per page run (see above); read by torch when it is imported


def check_inference() -> None:
    """ATTN_LAB_INFERENCE must be a Serve address that answers (or unset): else say so, exit 2."""
    # here, not at the top: lmcore.inference imports torch, which must come after main() sets OMP_NUM_THREADS
    from lmcore import inference

    try:
        address = inference.check()
    except UserFacingError as error:
        sys.exit(f"{error.message('en')}\n{error.message('ko')}")
    if address is not None:
        print(translate("school.startup.serve", "en", address=address), flush=True)


LOOPBACK = {"127.0.0.1", "localhost", "::1"}
LINK_BYTES = 1_000_000  # a shared link up to ~1 MB reaches the app, which answers an over-long text itself


def _long_links(original):
    """Uvicorn's HTTP parser with room for a long link: httptools refused a request line over
    ~64 KB ("Invalid HTTP request received.") before the app ran; h11 with a 1 MB limit lets
    the page open and url_state say the text was too long for a link."""
    def kwargs() -> dict:
        return original() | {"http": "h11", "h11_max_incomplete_event_size": LINK_BYTES}
    return kwargs


def no_external_ip() -> None:
    """Nothing is looked up outside: the banner's and the origin check's external IP is None."""
    return None


def connect_lines() -> list[str]:
    """The banner's lines, English then Korean: this computer's address and the class's."""
    port, address = config.get_option("server.port"), config.get_option("server.address") or ""
    here = f"http://localhost:{port}"
    if address in LOOPBACK:
        keys, params = ("school.launch.here", "school.launch.only_here"), {"here": here}
    else:
        network = f"http://{net_util.get_internal_ip() or '127.0.0.1'}:{port}"
        keys, params = ("school.launch.here", "school.launch.network"), {"here": here, "network": network}
    return [translate(key, lang, **params) for lang in ("en", "ko") for key in keys]


def _banner(original):
    def print_url(is_running_hello: bool) -> None:
        original(is_running_hello)
        print("\n".join(connect_lines()) + "\n", flush=True)
    return print_url


def main(argv: list[str]) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", PAGE_THREADS)  # before anything imports torch
    check_inference()
    PagesManager.uses_pages_directory = False  # app.py navigates with st.navigation
    lean_session.install()  # a fragment rerun's new_session without the page list
    net_util.get_external_ip = no_external_ip  # read through the module by the banner and origin check
    bootstrap._print_url = _banner(bootstrap._print_url)
    starlette_server._get_uvicorn_config_kwargs = _long_links(starlette_server._get_uvicorn_config_kwargs)
    sys.argv = ["streamlit", "run", APP, *argv]
    sys.exit(cli.main())


if __name__ == "__main__":
    main(sys.argv[1:])
