"""Submit a training run to Hugging Face Jobs, for users without a GPU.

The job installs MIMIR in a uv image, writes the training config from an environment
variable, downloads the dataset from the Hub (``hf://datasets/...``), trains, and pushes the
adapter to ``push_to_hub``. The token goes per call to :func:`huggingface_hub.HfApi.run_job`
and into the job as the ``HF_TOKEN`` *secret*; it is never logged or written to disk.
"""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass

import yaml

from mimir.config import config_to_dict, merge_overrides, option
from mimir.errors import AuthError, ConfigError, HubError
from mimir.secrets import redact, remember
from mimir.train.config import TrainConfig

log = logging.getLogger(__name__)

JOB_OUTPUT_DIR = "/tmp/mimir-run"
JOB_CONFIG_PATH = "/tmp/mimir-train.yaml"
CONFIG_ENV = "MIMIR_TRAIN_CONFIG"


@dataclass
class JobsConfig:
    """Where and how the job runs."""

    mimir_source: str = option("", help="pip requirement that installs MIMIR in the job, e.g. git+https://github.com/OWNER/mimir.")
    flavor: str = option("a10g-small", help="Hardware flavor (cpu-basic, t4-small, a10g-small, a100-large, ...).")
    timeout: str = option("2h", help="Time limit: seconds or a number with s/m/h/d.")
    image: str = option("ghcr.io/astral-sh/uv:python3.12-bookworm", help="Docker image with Python and uv.")
    namespace: str | None = option(None, help="User or org that runs the job (default: the token's user).")
    endpoint: str | None = option(None, help="Hub endpoint (default: HF_ENDPOINT or huggingface.co).")


@dataclass
class JobHandle:
    id: str
    url: str
    status: str
    namespace: str


def job_command(mimir_source: str) -> list[str]:
    """Shell steps inside the job: install MIMIR, write the config from the env, train."""
    script = " && ".join(
        [
            f"uv pip install --system {shlex.quote(mimir_source)}",
            f'printf "%s" "${CONFIG_ENV}" > {JOB_CONFIG_PATH}',
            f"python -m mimir -v train --config {JOB_CONFIG_PATH}",
        ]
    )
    return ["bash", "-c", script]


def job_config(config: TrainConfig) -> TrainConfig:
    """The config as the job must see it: Hub data in, Hub repo out, paths inside the container."""
    parts = [p.strip() for p in config.dataset.split(",") if p.strip()]
    local = [p for p in parts if not p.startswith("hf://datasets/")]
    if not parts or local:
        raise ConfigError(
            f"dataset {', '.join(local) or '(empty)'} is local; a job can only read the Hub. Push it first "
            "(`python -m mimir push dataset ...`) and set dataset: hf://datasets/OWNER/NAME/FILE.jsonl"
        )
    if config.eval_dataset and not config.eval_dataset.startswith("hf://datasets/"):
        raise ConfigError("eval_dataset is local; push it and use hf://datasets/OWNER/NAME/FILE.jsonl, or drop it")
    if not config.push_to_hub:
        raise ConfigError("push_to_hub is empty: the job's disk is wiped when it ends; name a Hub model repo for the adapter")
    return merge_overrides(config, {"output_dir": JOB_OUTPUT_DIR, "device": "auto"})


def _api(jobs: JobsConfig):
    from huggingface_hub import HfApi

    return HfApi(endpoint=jobs.endpoint) if jobs.endpoint else HfApi()


def _token(token: str | None) -> str:
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise AuthError("no Hugging Face token: sign in, run `hf auth login`, or set HF_TOKEN")
    remember(token)
    return token


def _hub_error(exc: Exception, action: str) -> Exception:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    message = f"{action} failed" + (f" (HTTP {status})" if status else "") + f": {redact(exc)}"
    if status in (401, 403):
        return AuthError(message + "; the token needs write access and Jobs enabled for its namespace")
    return HubError(message)


def submit_job(config: TrainConfig, jobs: JobsConfig | None = None, *, token: str | None = None) -> JobHandle:
    """Start the run on HF Jobs and return its id, URL and first status."""
    from huggingface_hub.errors import HfHubHTTPError

    jobs = jobs or JobsConfig()
    if not jobs.mimir_source:
        raise ConfigError("mimir_source is empty: give a pip requirement that installs MIMIR (e.g. a git+https URL)")
    remote = job_config(config.validate())
    token = _token(token)
    api = _api(jobs)
    try:
        namespace = jobs.namespace or api.whoami(token=token)["name"]
        info = api.run_job(
            image=jobs.image,
            command=job_command(jobs.mimir_source),
            env={CONFIG_ENV: yaml.safe_dump(config_to_dict(remote), sort_keys=False)},
            secrets={"HF_TOKEN": token},
            flavor=jobs.flavor,
            timeout=jobs.timeout,
            labels={"app": "mimir", "stage": "train"},
            namespace=namespace,
            token=token,
        )
    except HfHubHTTPError as exc:
        raise _hub_error(exc, "submitting the training job") from None
    log.info("submitted training job %s (%s)", info.id, info.url)
    return JobHandle(id=info.id, url=info.url, status=info.status.stage, namespace=namespace)


def job_status(job_id: str, namespace: str, jobs: JobsConfig | None = None, *, token: str | None = None) -> tuple[str, str | None]:
    """(stage, message) of a submitted job, e.g. ("RUNNING", None) or ("ERROR", "...")."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        info = _api(jobs or JobsConfig()).inspect_job(job_id=job_id, namespace=namespace, token=_token(token))
    except HfHubHTTPError as exc:
        raise _hub_error(exc, f"reading job {job_id}") from None
    return info.status.stage, info.status.message


def cancel_job(job_id: str, namespace: str, jobs: JobsConfig | None = None, *, token: str | None = None) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    try:
        _api(jobs or JobsConfig()).cancel_job(job_id=job_id, namespace=namespace, token=_token(token))
    except HfHubHTTPError as exc:
        raise _hub_error(exc, f"cancelling job {job_id}") from None
