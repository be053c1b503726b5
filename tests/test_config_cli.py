"""Configs are the one source: flags, --print-config, docs and range checks all come from the dataclasses."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mimir.cli import COMMANDS, main
from mimir.config import check_paths, config_fields, config_from_dict, option, read_data_file
from mimir.errors import ConfigError, InputFileError

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_doc_is_current():
    from mimir.config_docs import DOC_PATH, render_markdown

    doc = ROOT / DOC_PATH
    assert doc.is_file(), "run: python -m mimir.config_docs --write"
    assert doc.read_text(encoding="utf-8") == render_markdown(), "docs/configuration.md is stale: python -m mimir.config_docs --write"


def test_doc_lists_every_key_of_every_stage_config():
    from mimir.config_docs import render_markdown, stage_configs

    text = render_markdown()
    configs = stage_configs()
    assert {stage for stage, _, _ in configs} >= {"chat", "knowledge", "generate", "baseline", "verify", "train",
                                                  "evaluate", "experiment", "push", "app"}
    for _, _, cls in configs:
        for name in config_fields(cls):
            assert f"| `{name}` |" in text, (cls.__name__, name)


@pytest.mark.parametrize("argv, section", [
    (["chat"], "chat"), (["generate"], "generate"), (["baseline"], "baseline"), (["verify"], "verify"),
    (["train"], "train"), (["evaluate"], "evaluate"), (["experiment"], "experiment"), (["app"], "app"),
    (["knowledge", "add", "kb"], "knowledge"), (["push", "dataset"], "push_dataset"), (["push", "adapter"], "push_adapter"),
])
def test_print_config_documents_every_key(argv, section, capsys):
    import importlib

    module = importlib.import_module(COMMANDS[argv[0]][0])
    cls = module.CONFIGS[section]
    assert main([*argv, "--print-config"]) == 0
    out = capsys.readouterr().out
    printed = yaml.safe_load(out)
    assert list(printed) == list(config_fields(cls))
    for name in config_fields(cls):
        help_text = cls.__dataclass_fields__[name].metadata["help"]
        assert help_text.split()[0] in out  # the help is there as a comment
    assert config_from_dict(cls, printed) == cls()  # and the output is a valid config file


@pytest.mark.parametrize("stage", [s for s in COMMANDS if s not in ("tune",)])
def test_bare_print_config_works_for_every_stage(stage, capsys):
    assert main([stage, "--print-config"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)


def test_print_config_shows_flags_and_yaml(tmp_path, capsys):
    path = tmp_path / "gen.yaml"
    path.write_text("generate:\n  max_turns: 4\n  tools: [knowledge_retriever]\n", encoding="utf-8")
    assert main(["generate", "--config", str(path), "--max-dialogues", "7", "--closing-turn", "--frameworks", "cot", "react",
                 "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert (printed["max_turns"], printed["max_dialogues"], printed["closing_turn"], printed["frameworks"]) == (4, 7, True, ["cot", "react"])


@pytest.mark.parametrize("argv, field", [
    (["generate", "--max-dialogues", "-3"], "generate.max_dialogues"),
    (["generate", "--max-active", "-5"], "generate.max_active"),
    (["generate", "--max-new-tokens", "-1"], "generate.max_new_tokens"),
    (["generate", "--temperature", "-2"], "generate.temperature"),
    (["baseline", "original", "-n", "0"], "baseline.n"),
    (["verify", "--judge-batch-size", "0"], "verify.judge_batch_size"),
    (["evaluate", "--bootstrap", "-1", "--questions", "q.jsonl"], "evaluate.bootstrap"),
    (["train", "--rank", "-4"], "train.rank"),
    (["chat", "hi", "--max-new-tokens", "-1"], "chat.max_new_tokens"),
    (["chat", "hi", "--model", "endpoint:m@http://127.0.0.1:9/v1?concurrency=-3"], "concurrency"),
    (["app", "--port", "-1"], "app.port"),
])
def test_out_of_range_values_are_errors_naming_the_field(argv, field, capsys, monkeypatch):
    import mimir.models.registry as registry

    monkeypatch.setattr(registry, "load_model", lambda *a, **k: pytest.fail("a model loaded before the config was checked"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert field in err and "out of range" in err and "Traceback" not in err


def test_range_checks_apply_to_yaml_files_too(tmp_path, capsys):
    path = tmp_path / "gen.yaml"
    path.write_text("max_dialogues: -3\n", encoding="utf-8")
    assert main(["generate", "--config", str(path)]) == 2
    assert "gen.yaml:generate.max_dialogues: -3 is out of range; it must be >= 0" in capsys.readouterr().err


@pytest.mark.parametrize("stage", ["generate", "verify", "train", "evaluate", "experiment", "chat", "app"])
def test_non_utf8_config_is_a_clear_error(stage, tmp_path, capsys):
    path = tmp_path / "run.yaml"
    path.write_bytes("model: caf\u00e9\n".encode("latin-1"))
    assert main([stage, "--config", str(path), "--print-config"]) == 2
    err = capsys.readouterr().err
    assert "run.yaml is not UTF-8 text" in err and "save it as UTF-8" in err


def test_missing_files_fail_before_any_model(tmp_path, capsys):
    assert main(["generate", "--knowledge", str(tmp_path / "nope")]) == 2
    assert "generate.knowledge: folder" in capsys.readouterr().err
    kb = tmp_path / "kb"
    kb.mkdir()
    assert main(["generate", "--knowledge", str(kb), "--roles-file", str(tmp_path / "roles.yaml")]) == 2
    assert "generate.roles_file: file" in capsys.readouterr().err
    assert main(["generate", "--knowledge", str(kb), "--holdout-questions", "missing.jsonl"]) == 2
    assert "generate.holdout_questions" in capsys.readouterr().err


def test_bundled_files_resolve_from_any_directory(tmp_path, monkeypatch):
    from mimir.generate.config import GenerateConfig
    from mimir.generate.roles import load_roles
    from mimir.knowledge.datasets import catalog
    from mimir.knowledge.examples import example_files, example_questions

    monkeypatch.chdir(tmp_path)
    check_paths(GenerateConfig())  # the default roles file is the bundled one
    assert load_roles("").domains and load_roles("assets/roles.yaml").domains  # configs from older versions too
    assert "medqa" in catalog() and example_files() and example_questions()


def test_read_data_file_translates_every_failure(tmp_path):
    with pytest.raises(ConfigError, match="config file .*x.yaml does not exist"):
        read_data_file(tmp_path / "x.yaml")
    with pytest.raises(ConfigError, match="is a folder"):
        read_data_file(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\nb: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML \(.* at line \d+ column \d+\)"):
        read_data_file(bad)
    js = tmp_path / "r.json"
    js.write_text('{"a": 1,}', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"r.json: not valid JSON \(.* at line 1 column 9\)"):
        read_data_file(js, error=InputFileError)
    listing = tmp_path / "l.yaml"
    listing.write_text("- a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        read_data_file(listing, mapping=True)
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_data_file(bom) == {"a": 1}


@dataclass
class _Demo:
    """A demo config."""

    count: int = option(3, min=0, help="How many (100% sure).")
    ratio: float = option(0.5, min=0.0, max=1.0, help="A share.")
    names: list[str] = option(["a"], choices=("a", "b", "c"), help="Some names.")
    flag: bool = option(False, help="A switch.")
    extra: dict = option({}, help="Overrides.")
    mode: str = option("x", choices=("x", "y"), help="A mode.")


def test_add_config_arguments_derives_flags_help_and_types(capsys):
    from mimir.config import add_config_arguments, config_from_args, render_config

    parser = argparse.ArgumentParser(prog="demo")
    add_config_arguments(parser, _Demo, flags={"count": ["-c", "--count"]}, exclude=("mode",))
    text = parser.format_help()
    for piece in ("--count", "-c", "--ratio", "--names", "--flag", "--no-flag", "--extra", "--config", "--print-config",
                  "How many (100% sure). (default: 3; min 0)", "A share. (default: 0.5; min 0.0; max 1.0)"):
        assert piece in " ".join(text.split()), piece
    assert "--mode" not in text
    args = parser.parse_args(["-c", "5", "--names", "a", "b", "--names", "c", "--no-flag", "--extra", "{k: 1}"])
    config = config_from_args(_Demo, args)
    assert (config.count, config.names, config.flag, config.extra, config.ratio) == (5, ["a", "b", "c"], False, {"k": 1}, 0.5)
    with pytest.raises(SystemExit):  # argparse knows the choices
        parser.parse_args(["--names", "z"])
    with pytest.raises(ConfigError, match="_Demo.names: 'z' is not one of"):  # and so does a YAML file
        config_from_dict(_Demo, {"names": ["a", "z"]}, where="_Demo")
    with pytest.raises(ConfigError, match="_Demo.ratio: 1.5 is out of range"):
        config_from_args(_Demo, parser.parse_args(["--ratio", "1.5"]))
    with pytest.raises(SystemExit):
        parser.parse_args(["--count", "many"])
    rendered = render_config(_Demo())
    assert "# _Demo: A demo config." in rendered and "# How many (100% sure). (default: 3; min 0)\ncount: 3" in rendered
    assert yaml.safe_load(rendered)["names"] == ["a"]


def test_booleans_in_yaml_are_not_numbers():
    with pytest.raises(ConfigError, match="expected a number, got a boolean"):
        config_from_dict(_Demo, {"ratio": True})
