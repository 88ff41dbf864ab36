from __future__ import annotations  # the config module must resolve string annotations

import dataclasses
import enum
import json
import os
from pathlib import Path
from typing import Literal, Optional

import pytest

from rnnkit.config import (
    ConfigError,
    apply_overrides,
    from_dict,
    leaf_keys,
    load_json,
    parse_override_args,
    parse_value,
    save_json,
    to_dict,
)


class Sched(enum.Enum):
    constant = "constant"
    cosine = "cosine"


@dataclasses.dataclass
class ModelConfig:
    cell: Literal["lstm", "gru", "rnn"] = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.0
    bidirectional: bool = False
    layer_sizes: tuple[int, ...] = (64, 64)


@dataclasses.dataclass
class TrainConfig:
    lr: float = 1e-3
    epochs: int = 10
    clip: Optional[float] = 1.0
    amp: bool = False
    scheduler: Sched = Sched.constant
    tags: list[str] = dataclasses.field(default_factory=list)
    betas: tuple[float, float] = (0.9, 0.999)

    def __post_init__(self):
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


@dataclasses.dataclass
class DataConfig:
    path: Optional[Path] = None
    out_dir: Path = Path("runs")
    seq_len: int | None = 64


@dataclasses.dataclass
class TaskConfig:
    name: str = "textgen"
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)


@dataclasses.dataclass
class Required:
    size: int
    name: str = "x"


# ---------------------------------------------------------------------------- value parsing


@pytest.mark.parametrize("text,tp,expected", [
    ("256", int, 256),
    (" -3 ", int, -3),
    ("3e-4", float, 3e-4),
    ("2", float, 2.0),
    ("hello world", str, "hello world"),
    ("", str, ""),
    ("a/b.txt", Path, Path("a/b.txt")),
    ("none", Optional[int], None),
    ("Null", Optional[int], None),
    ("5", Optional[int], 5),
    ("gru", Literal["lstm", "gru"], "gru"),
    ("2", Literal[1, 2], 2),
    ("1,2,3", tuple[int, ...], (1, 2, 3)),
    ("1.5, 2", tuple[float, float], (1.5, 2.0)),
    ("a,b", list[str], ["a", "b"]),
    ("", list[int], []),
    ("cosine", Sched, Sched.cosine),
    ("7", int | str, 7),
    ("seven", int | str, "seven"),
])
def test_parse_value_types(text, tp, expected):
    got = parse_value(text, tp, "k")
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("text", ["true", "TRUE", "1", "yes", "on", "Y"])
def test_parse_bool_true(text):
    assert parse_value(text, bool, "k") is True


@pytest.mark.parametrize("text", ["false", "False", "0", "no", "off", "n"])
def test_parse_bool_false(text):
    assert parse_value(text, bool, "k") is False


@pytest.mark.parametrize("text,tp,fragment", [
    ("ten", int, "k expects int, got 'ten'"),
    ("1.5", int, "k expects int, got '1.5'"),
    ("fast", float, "k expects float, got 'fast'"),
    ("maybe", bool, "k expects bool, got 'maybe'"),
    ("lstn", Literal["lstm", "gru"], "did you mean 'lstm'"),
    ("1,2,3", tuple[int, int], "k expects 2 comma-separated values"),
    ("1,x", tuple[int, ...], "k[1] expects int, got 'x'"),
    ("linear", Sched, "k expects one of 'constant', 'cosine'"),
    ("x", Optional[int], "k expects int or None, got 'x'"),
])
def test_parse_value_errors(text, tp, fragment):
    with pytest.raises(ConfigError) as e:
        parse_value(text, tp, "k")
    assert fragment in str(e.value)


# ---------------------------------------------------------------------------- overrides


def test_apply_overrides_every_type_nested():
    cfg = TaskConfig()
    new = apply_overrides(cfg, [
        "name=sentiment",
        "model.cell=gru",
        "model.hidden_size=256",
        "model.dropout=0.25",
        "model.bidirectional=yes",
        "model.layer_sizes=32,16,8",
        "train.lr=3e-4",
        "train.clip=none",
        "train.scheduler=cosine",
        "train.tags=a,b",
        "train.betas=0.8,0.99",
        "data.path=corpus/shakespeare.txt",
        "data.seq_len=None",
    ])
    assert new.name == "sentiment"
    assert new.model == ModelConfig(cell="gru", hidden_size=256, dropout=0.25, bidirectional=True,
                                    layer_sizes=(32, 16, 8))
    assert new.train.lr == 3e-4 and new.train.clip is None and new.train.scheduler is Sched.cosine
    assert new.train.tags == ["a", "b"] and new.train.betas == (0.8, 0.99)
    assert new.data.path == Path("corpus/shakespeare.txt") and new.data.seq_len is None
    # the input config is untouched and untouched sections keep their values
    assert cfg == TaskConfig()
    assert new.train.epochs == 10 and new.data.out_dir == Path("runs")


def test_overrides_apply_in_order_and_value_may_contain_equals():
    new = apply_overrides(TaskConfig(), ["model.hidden_size=1", "model.hidden_size=2",
                                         "name=a=b"])
    assert new.model.hidden_size == 2 and new.name == "a=b"


def test_unknown_key_names_it_and_suggests():
    with pytest.raises(ConfigError) as e:
        apply_overrides(TaskConfig(), ["model.hiden_size=3"])
    msg = str(e.value)
    assert "'model.hiden_size'" in msg and "Did you mean 'model.hidden_size'" in msg
    assert "model.num_layers" in msg  # lists the valid keys of that section


def test_unknown_section_and_value_used_as_section():
    with pytest.raises(ConfigError, match="unknown config key 'modle.hidden_size'.*"
                                          "Did you mean 'model.hidden_size'"):
        apply_overrides(TaskConfig(), ["modle.hidden_size=3"])
    with pytest.raises(ConfigError, match="model.hidden_size is a value, not a section"):
        apply_overrides(TaskConfig(), ["model.hidden_size.x=3"])
    with pytest.raises(ConfigError, match="model is a section"):
        apply_overrides(TaskConfig(), ["model=3"])


def test_wrong_type_message():
    with pytest.raises(ConfigError, match=r"train\.epochs expects int, got 'ten'"):
        apply_overrides(TaskConfig(), ["train.epochs=ten"])


def test_literal_mismatch():
    with pytest.raises(ConfigError) as e:
        apply_overrides(TaskConfig(), ["model.cell=transformer"])
    assert "model.cell expects one of 'lstm', 'gru', 'rnn', got 'transformer'" in str(e.value)


def test_post_init_validation_runs_on_override():
    with pytest.raises(ConfigError, match=r"train\.lr='-1' rejected: lr must be > 0"):
        apply_overrides(TaskConfig(), ["train.lr=-1"])


def test_malformed_override():
    with pytest.raises(ConfigError, match="not of the form key=value"):
        apply_overrides(TaskConfig(), ["model.hidden_size"])
    with pytest.raises(TypeError):
        apply_overrides(TaskConfig(), "model.hidden_size=3")


def test_parse_override_args_forms():
    argv = ["--model.hidden_size=256", "--train.lr", "-1e-3", "data.seq_len=32",
            "--name", "x=y"]
    assert parse_override_args(argv) == ["model.hidden_size=256", "train.lr=-1e-3",
                                         "data.seq_len=32", "name=x=y"]
    assert parse_override_args([]) == []


def test_parse_override_args_errors():
    with pytest.raises(ConfigError, match="--train.amp needs a value"):
        parse_override_args(["--train.amp"])
    with pytest.raises(ConfigError, match="--train.amp needs a value"):
        parse_override_args(["--train.amp", "--train.lr=1"])
    with pytest.raises(ConfigError, match="unexpected argument 'stray'"):
        parse_override_args(["stray"])


def test_leaf_keys():
    keys = leaf_keys(TaskConfig)
    assert keys[:3] == ["name", "model.cell", "model.hidden_size"]
    assert "data.seq_len" in keys and "model" not in keys


# ---------------------------------------------------------------------------- dict / JSON


def _custom_cfg():
    return apply_overrides(TaskConfig(), ["model.cell=rnn", "train.clip=none",
                                          "train.scheduler=cosine", "train.tags=x,y",
                                          "data.path=/tmp/a b.txt", "model.layer_sizes="])


def test_dict_round_trip():
    cfg = _custom_cfg()
    d = to_dict(cfg)
    assert d["model"]["layer_sizes"] == [] and d["data"]["path"] == "/tmp/a b.txt"
    assert d["train"]["scheduler"] == "cosine"
    json.dumps(d)  # JSON-ready
    assert from_dict(TaskConfig, d) == cfg


def test_json_round_trip(tmp_path):
    cfg = _custom_cfg()
    path = tmp_path / "sub" / "config.json"
    save_json(cfg, path)
    assert load_json(TaskConfig, path) == cfg
    # overwrite is atomic: no temp files left beside it
    save_json(TaskConfig(), path)
    assert load_json(TaskConfig, path) == TaskConfig()
    assert os.listdir(path.parent) == ["config.json"]


def test_from_dict_strict():
    d = to_dict(TaskConfig())
    d["train"]["learning_rate"] = 1.0
    with pytest.raises(ConfigError, match="unknown config key 'train.learning_rate'"):
        from_dict(TaskConfig, d)
    d = to_dict(TaskConfig())
    d["train"]["epochs"] = "10"
    with pytest.raises(ConfigError, match=r"train\.epochs expects int, got '10'"):
        from_dict(TaskConfig, d)
    d = to_dict(TaskConfig())
    d["train"]["epochs"] = True  # bool is not accepted where an int is declared
    with pytest.raises(ConfigError, match=r"train\.epochs expects int"):
        from_dict(TaskConfig, d)
    d = to_dict(TaskConfig())
    d["model"]["cell"] = "lstn"
    with pytest.raises(ConfigError, match="model.cell expects one of"):
        from_dict(TaskConfig, d)
    d = to_dict(TaskConfig())
    d["train"]["betas"] = [0.9]
    with pytest.raises(ConfigError, match="train.betas expects 2 comma-separated"):
        from_dict(TaskConfig, d)


def test_from_dict_defaults_and_required():
    cfg = from_dict(TaskConfig, {"model": {"hidden_size": 7}})
    assert cfg.model.hidden_size == 7 and cfg.train == TrainConfig()
    assert from_dict(TaskConfig, {"train": {"epochs": 3, "lr": 1}}).train.lr == 1.0
    with pytest.raises(ConfigError, match="missing config key"):
        from_dict(Required, {"name": "y"})
    assert from_dict(Required, {"size": 2}) == Required(size=2)


def test_load_json_errors_name_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="bad.json: not valid JSON"):
        load_json(TaskConfig, bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"modle": {}}))
    with pytest.raises(ConfigError, match="wrong.json: unknown config key 'modle'"):
        load_json(TaskConfig, wrong)
    with pytest.raises(FileNotFoundError):
        load_json(TaskConfig, tmp_path / "absent.json")


def test_unknown_key_spelled_as_other_tools_do_gets_the_rnnkit_name():
    """``--lr`` and ``--epochs`` (the last part of a key), and ``--out`` / ``--output-dir`` (the
    run folder, a command-line option here)."""
    with pytest.raises(ConfigError, match="unknown config key 'lr'. Did you mean 'train.lr'"):
        apply_overrides(TaskConfig(), ["lr=0.1"])
    for word in ("out", "output-dir", "save_dir"):
        with pytest.raises(ConfigError, match=rf"unknown config key '{word}'. The run folder is set with --run-dir"):
            apply_overrides(TaskConfig(), [f"{word}=runs/x"])
