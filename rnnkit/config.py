"""Typed configs on plain dataclasses: command-line overrides, dict and JSON round-trips.

A config is a (possibly nested) dataclass, e.g. a task config with fields
``model: ModelConfig``, ``train: TrainConfig``, ``data: DataConfig``. Every leaf is addressed by
its dotted path (``train.lr``), and every value coming from text is parsed against the field's
declared type, so a typo or a wrong value fails at start-up, naming the key, instead of deep
inside a run.

Supported field types: ``int``, ``float``, ``bool``, ``str``, ``pathlib.Path``, ``Optional[X]``
(``X | None``), other unions (tried in order), ``Literal[...]``, ``tuple[X, ...]``,
``tuple[X, Y]``, ``list[X]``, ``Enum`` subclasses, ``dict`` (JSON only) and nested dataclasses.
String annotations (``from __future__ import annotations``) are resolved with
``typing.get_type_hints``, so config classes must be importable at module level.

Text syntax for overrides::

    train.epochs=10        int
    train.lr=3e-4          float
    train.amp=yes          bool: true/false, 1/0, yes/no, on/off (any case)
    data.path=none         Optional[X]: none/null (any case) gives None
    model.sizes=64,128     tuple/list: comma separated; an empty value gives an empty one
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence, TypeVar, Union

__all__ = [
    "ConfigError",
    "apply_overrides",
    "parse_override_args",
    "parse_value",
    "to_dict",
    "from_dict",
    "save_json",
    "load_json",
    "leaf_keys",
]

T = TypeVar("T")

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}
_NONE = {"none", "null"}


class ConfigError(ValueError):
    """A config key or value is invalid; the message names the key and what was expected."""


# ----------------------------------------------------------------------------------------------
# Type introspection


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _hints(cls: type) -> dict[str, Any]:
    """Field name -> resolved type for a dataclass (string annotations resolved)."""
    try:
        hints = typing.get_type_hints(cls)
    except NameError as e:  # a string annotation naming something not importable at module level
        raise ConfigError(f"cannot resolve the annotations of {cls.__qualname__}: {e}") from e
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    """The members of ``Union[...]`` / ``X | Y``, or None if ``tp`` is not a union."""
    if typing.get_origin(tp) is Union or isinstance(tp, types.UnionType):
        return typing.get_args(tp)
    return None


def type_name(tp: Any) -> str:
    """A short human-readable name for a type, used in error messages."""
    if tp is type(None):
        return "None"
    members = _union_args(tp)
    if members is not None:
        return " or ".join(type_name(m) for m in members)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (tuple, list):
        if origin is tuple and args and (len(args) != 2 or args[1] is not Ellipsis):
            return f"{len(args)} comma-separated values ({', '.join(type_name(a) for a in args)})"
        inner = type_name(args[0]) if args else "str"
        return f"comma-separated list of {inner}"
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return "one of " + ", ".join(repr(m.name) for m in tp)
        return tp.__name__
    return str(tp)


# ----------------------------------------------------------------------------------------------
# Parsing text against a type


def _fail(key: str, tp: Any, got: Any) -> ConfigError:
    return ConfigError(f"{key} expects {type_name(tp)}, got {got!r}")


def parse_value(text: str, tp: Any, key: str = "value") -> Any:
    """Parse the command-line string ``text`` as type ``tp``.

    Raises ConfigError("<key> expects <type>, got '<text>'") when it does not fit.
    """
    if tp is Any:
        return text
    members = _union_args(tp)
    if members is not None:
        if type(None) in members and text.strip().lower() in _NONE:
            return None
        for member in members:
            if member is type(None):
                continue
            try:
                return parse_value(text, member, key)
            except ConfigError:
                continue
        raise _fail(key, tp, text)

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        for allowed in args:
            try:
                value = parse_value(text, type(allowed), key)
            except ConfigError:
                continue
            if value == allowed and type(value) is type(allowed):
                return allowed
        msg = f"{key} expects {type_name(tp)}, got {text!r}"
        close = difflib.get_close_matches(text, [str(a) for a in args], n=1)
        raise ConfigError(msg + (f" (did you mean {close[0]!r}?)" if close else ""))
    if origin in (tuple, list):
        parts = [p.strip() for p in text.split(",")] if text.strip() else []
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(parts) != len(args):
                raise _fail(key, tp, text)
            item_types = list(args)
        else:
            item_types = [args[0] if args else str] * len(parts)
        items = [parse_value(p, t, f"{key}[{i}]")
                 for i, (p, t) in enumerate(zip(parts, item_types))]
        return tuple(items) if origin is tuple else items
    if origin is not None:
        raise ConfigError(f"{key} has type {type_name(tp)}, which cannot be set from the "
                          f"command line")

    if tp is bool:
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise _fail(key, tp, text)
    if tp is int:
        try:
            return int(text.strip())
        except ValueError:
            raise _fail(key, tp, text) from None
    if tp is float:
        try:
            return float(text.strip())
        except ValueError:
            raise _fail(key, tp, text) from None
    if tp is str:
        return text
    if tp is type(None):
        if text.strip().lower() in _NONE:
            return None
        raise _fail(key, tp, text)
    if isinstance(tp, type) and issubclass(tp, Path):
        return tp(text)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if text == member.name or text == str(member.value):
                return member
        raise _fail(key, tp, text)
    if _is_dataclass_type(tp):
        raise ConfigError(f"{key} is a section, not a value; set one of its fields, e.g. "
                          f"{key}.{next(iter(_hints(tp)), '<field>')}=...")
    raise ConfigError(f"{key} has type {type_name(tp)}, which cannot be set from the command line")


# ----------------------------------------------------------------------------------------------
# Overrides


def leaf_keys(cls_or_cfg: Any, prefix: str = "") -> list[str]:
    """All dotted leaf keys of a config class or instance, in field order."""
    cls = cls_or_cfg if isinstance(cls_or_cfg, type) else type(cls_or_cfg)
    keys: list[str] = []
    for name, tp in _hints(cls).items():
        if _is_dataclass_type(tp):
            keys.extend(leaf_keys(tp, f"{prefix}{name}."))
        else:
            keys.append(prefix + name)
    return keys


# words other tools use for the output folder; rnnkit's run folder is a command-line option
_FOLDER_WORDS = {"out", "output", "outdir", "out_dir", "output_dir", "save_dir", "savedir", "log_dir", "logdir",
                 "checkpoint_dir", "ckpt_dir", "dir", "folder", "run", "run_dir"}


def _unknown_key(full_key: str, cfg: Any, valid_here: Iterable[str]) -> ConfigError:
    all_keys = leaf_keys(cfg)
    close = difflib.get_close_matches(full_key, all_keys, n=1, cutoff=0.6)
    if not close:  # "lr" for train.lr: the last part of a key, as other tools spell it alone
        word = full_key.replace("-", "_")
        close = [k for k in all_keys if k.rsplit(".", 1)[-1] == word][:1]
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if full_key.replace("-", "_").lower() in _FOLDER_WORDS:
        hint = " The run folder is set with --run-dir (rnnkit train APP --run-dir FOLDER)."
    return ConfigError(f"unknown config key {full_key!r}.{hint} Valid keys here: "
                       f"{', '.join(valid_here)}")


def _set_path(cfg: Any, path: list[str], text: str, full_key: str, root: Any) -> Any:
    """Return a copy of ``cfg`` with the field at ``path`` parsed from ``text``."""
    hints = _hints(type(cfg))
    name = path[0]
    prefix = full_key[: len(full_key) - len(".".join(path))]  # the sections above this field
    if name not in hints:
        valid = [prefix + k for k in leaf_keys(type(cfg))]
        raise _unknown_key(full_key, root, valid)
    tp = hints[name]
    if len(path) == 1:
        value = parse_value(text, tp, full_key)
    elif _is_dataclass_type(tp) and dataclasses.is_dataclass(getattr(cfg, name)):
        value = _set_path(getattr(cfg, name), path[1:], text, full_key, root)
    else:
        raise ConfigError(f"unknown config key {full_key!r}: {prefix + name} is a value, "
                          f"not a section")
    try:
        # replace() runs __init__/__post_init__, so a config's own validation sees the new value.
        return dataclasses.replace(cfg, **{name: value})
    except ConfigError:
        raise
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{full_key}={text!r} rejected: {e}") from e


def apply_overrides(cfg: T, overrides: Sequence[str]) -> T:
    """Return a new config with ``key=value`` overrides applied in order (the input is untouched).

    ``overrides`` are strings such as ``"model.hidden_size=256"``; see the module docstring for
    value syntax. Raises ConfigError for an unknown key (with the closest valid key) or a value
    that does not parse as the field's type.
    """
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"apply_overrides needs a dataclass instance, got {type(cfg).__name__}")
    if isinstance(overrides, str):
        raise TypeError("overrides must be a list of 'key=value' strings, not one string")
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        cfg = _set_path(cfg, key.split("."), text, key, cfg)
    return cfg


def parse_override_args(argv: Sequence[str]) -> list[str]:
    """Normalise command-line tokens to ``key=value`` strings.

    Accepts ``key=value``, ``--key=value`` and the pair ``--key value``. A value may itself start
    with a single dash (``--train.lr -1``); a token starting with ``--`` always starts a new key.
    """
    out: list[str] = []
    i = 0
    argv = list(argv)
    while i < len(argv):
        tok = argv[i]
        body = tok[2:] if tok.startswith("--") else tok
        if "=" in body:
            out.append(body)
            i += 1
        elif tok.startswith("--") and body:
            if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                raise ConfigError(f"{tok} needs a value: write {tok}=VALUE or {tok} VALUE")
            out.append(f"{body}={argv[i + 1]}")
            i += 2
        else:
            raise ConfigError(f"unexpected argument {tok!r}: overrides look like key=value "
                              f"or --key value")
    return out


# ----------------------------------------------------------------------------------------------
# Dict / JSON


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config: nested dataclasses become dicts, tuples lists, Paths str."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"to_dict needs a dataclass instance, got {type(cfg).__name__}")
    return {f.name: _plain(getattr(cfg, f.name)) for f in dataclasses.fields(cfg) if f.init}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Check/convert one JSON value against a declared type (the inverse of _plain)."""
    if tp is Any:
        return value
    members = _union_args(tp)
    if members is not None:
        if value is None and type(None) in members:
            return None
        for member in members:
            if member is type(None):
                continue
            try:
                return _convert(value, member, key)
            except ConfigError:
                continue
        raise _fail(key, tp, value)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        for allowed in args:
            if value == allowed and type(value) is type(allowed):
                return allowed
        raise _fail(key, tp, value)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise _fail(key, tp, value)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise _fail(key, tp, value)
            item_types = list(args)
        else:
            item_types = [args[0] if args else Any] * len(value)
        items = [_convert(v, t, f"{key}[{i}]") for i, (v, t) in enumerate(zip(value, item_types))]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise _fail(key, tp, value)
        vt = args[1] if len(args) == 2 else Any
        return {k: _convert(v, vt, f"{key}[{k!r}]") for k, v in value.items()}
    if _is_dataclass_type(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key} expects a mapping for {tp.__name__}, got {value!r}")
        return _from_dict(tp, value, key + ".")
    # bool is an int subclass in Python; keep them apart so `epochs: true` is an error.
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _fail(key, tp, value)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _fail(key, tp, value)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _fail(key, tp, value)
    if tp is str:
        if isinstance(value, str):
            return value
        raise _fail(key, tp, value)
    if tp is type(None):
        if value is None:
            return None
        raise _fail(key, tp, value)
    if isinstance(tp, type) and issubclass(tp, Path):
        if isinstance(value, (str, Path)):
            return tp(value)
        raise _fail(key, tp, value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if isinstance(value, str):
            return parse_value(value, tp, key)
        raise _fail(key, tp, value)
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise _fail(key, tp, value)


def _from_dict(cls: type, d: dict[str, Any], prefix: str) -> Any:
    hints = _hints(cls)
    unknown = [k for k in d if k not in hints]
    if unknown:
        key = prefix + str(unknown[0])
        valid = [prefix + k for k in hints]
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown config key {key!r}.{hint} Valid keys here: {', '.join(valid)}")
    kwargs = {name: _convert(d[name], hints[name], prefix + name) for name in hints if name in d}
    try:
        return cls(**kwargs)
    except TypeError as e:  # a required field (no default) is missing
        missing = [prefix + n for n, f in ((f.name, f) for f in dataclasses.fields(cls))
                   if f.init and n not in d and f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING]
        if missing:
            raise ConfigError(f"missing config key(s): {', '.join(missing)}") from e
        raise ConfigError(f"{cls.__name__}: {e}") from e
    except ValueError as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"{prefix.rstrip('.') or cls.__name__}: {e}") from e


def from_dict(cls: type[T], d: dict[str, Any]) -> T:
    """Build ``cls`` from a dict made by ``to_dict`` (or read from JSON).

    Strict: unknown keys and wrongly typed values raise ConfigError naming the dotted key.
    Keys that are absent take the field's default (so configs saved by an older version load),
    and a missing required field is an error.
    """
    if not _is_dataclass_type(cls):
        raise TypeError(f"from_dict needs a dataclass type, got {cls!r}")
    if not isinstance(d, dict):
        raise ConfigError(f"{cls.__name__} expects a mapping, got {type(d).__name__}")
    return _from_dict(cls, d, "")


def save_json(cfg: Any, path: str | os.PathLike) -> None:
    """Write ``to_dict(cfg)`` as JSON atomically: a temp file in the same folder, then os.replace.

    A crash mid-write leaves either the old file or the new one, never half of one.
    """
    # imported here, not at the top: rnnkit.train imports this module
    from rnnkit.train.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(to_dict(cfg), indent=2, sort_keys=False) + "\n")


def load_json(cls: type[T], path: str | os.PathLike) -> T:
    """Read a config saved by ``save_json``; errors name the file."""
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: not valid JSON ({e})") from e
    try:
        return from_dict(cls, d)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from e
