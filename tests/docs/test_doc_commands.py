"""Every command in the README's and docs/*.md's shell blocks is checked, parsed from the files
themselves (a changed doc changes this test):

- the README's "your own text" block runs for real, in order, with tiny settings appended;
- every other ``rnnkit`` command goes through the real command line as far as it can without a
  long training: ``train`` resolves its whole config (``--print-config``: every key, type and
  value is checked); ``evaluate``/``predict``/tools parse with the app's own parser;
- every ``python benchmarks/NAME.py ...`` line (README, docs/, benchmarks/README.md) is parsed by
  that script's own parser, and every other ``make`` target named must exist;
- every command that is not run says why (:func:`not_run_reason`), and an unknown kind of command
  fails the test until it is given a reason.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md"]
# docs page -> the app its `evaluate RUN` / `predict RUN` lines are about
PAGE_APP = {"forecasting.md": "forecast", "sentiment.md": "classify", "translation.md": "translate",
            "speech.md": "speech", "music.md": "music", "long_sequences.md": "longrange", "README.md": "textgen"}
TINY_TEXTGEN = ["model.hidden_size=32", "model.embed_size=16", "data.seq_len=16", "data.chunks_per_batch=2",
                "data.batch_size=8", "train.progress=false", "train.tensorboard=false", "train.plots=false",
                "sample.max_new_tokens=20"]


def doc_commands() -> list[tuple[str, str]]:
    """(page, command) for every command line in a shell code block, comments stripped."""
    out = []
    for page in DOCS:
        # fences paired from the start of the page (an unlabelled pattern would also pair a block's
        # closing fence with the next block's opening one and read the prose between as commands)
        blocks = re.findall(r"^```(\w*)\n(.*?)^```", page.read_text("utf-8"), re.S | re.M)
        for block in (b for lang, b in blocks if lang in ("", "bash", "sh", "shell", "console")):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.strip().removeprefix("$ ")
                if re.match(r"(python3? -m rnnkit|(\w+=\S+ )*python3? -m pytest|rnnkit|torchrun|make|pip|apt-get|echo|for) ", line) \
                        or benchmark_argv(line) is not None \
                        or line in ("make demo", "make test", "rnnkit runs", "rnnkit info"):
                    out.append((page.name, line))
    return out


def benchmark_argv(command: str) -> list[str] | None:
    """``[script, *args]`` of a ``python benchmarks/NAME.py ...`` line (any python: the benchmark
    environment's ``~/.cache/.../bin/python`` too), or None."""
    m = re.match(r"(?:\S*/)?python3? (benchmarks/\w+\.py)(.*)$", command)
    if m is None:
        return None
    return [m.group(1), *shlex.split(m.group(2), comments=True)]


def rnnkit_argv(command: str) -> list[str] | None:
    """The argv of the ``rnnkit`` part of a command line, or None when it has none."""
    if command.startswith("echo "):  # `echo TEXT | rnnkit ...`
        command = command.split("|", 1)[-1].strip()
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return None
    for i, w in enumerate(words):
        if w == "rnnkit" and (i == 0 or words[i - 1] != "-m"):
            return words[i + 1:]
        if w == "-m" and i + 1 < len(words) and words[i + 1] == "rnnkit":
            return words[i + 2:]
    return None


def is_synopsis(argv: list[str]) -> bool:
    """A usage line (``[--preset ...]``, ``RUN``, ``CLIP ...``), not a command to run."""
    return any(w.startswith("[") or w in ("RUN", "...") or w.isupper() for w in argv)


def not_run_reason(page: str, command: str, argv: list[str] | None) -> str:
    if command.startswith(("make demo", "make test")):
        return "CI runs `make test`; the fresh-clone check before every release runs both"
    if command.startswith("make "):  # another target: it must exist
        target = command.split()[1]
        assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), re.MULTILINE), \
            f"{page}: `{command}`: the Makefile has no target {target!r}"
        return "a make target that installs or benchmarks (minutes): the Makefile defines it"
    if command.startswith(("pip ", "apt-get ")):
        return "installs packages (make setup does it)"
    if benchmark_argv(command) is not None:
        return "a benchmark (minutes): its arguments are parsed by its own parser here"
    if re.match(r"(\w+=\S+ )*python3? -m pytest ", command):
        return "the tests themselves: CI runs the whole suite"
    if command.startswith("for "):
        return "a shell loop of the trainings above"
    if argv is None:
        raise AssertionError(f"{page}: no rule for `{command}`: run it in this test or give a reason here")
    if is_synopsis(argv):
        return "a usage line: the grammar is checked"
    verb = next((w for w in argv if not w.startswith("-") and not w.isdigit()), "")
    if verb == "train":
        return "a full training (minutes): its config is resolved here; tests/<app> trains the tiny preset"
    if verb in ("evaluate", "predict", "generate"):
        return "needs the run the doc trains first: parsed with the app's own options here"
    if verb in ("export", "serve"):
        return "needs a trained run: parsed here; tests/export and tests/serve run them on tiny runs"
    if verb in ("translate", "speech", "longrange"):
        return "an app tool (minutes or a Debian package): parsed here"
    if verb in ("info", "runs"):
        return "run in test_readme_block_runs"
    raise AssertionError(f"{page}: no rule for `{command}`: run it in this test or give a reason here")


def _global_free(argv: list[str]) -> list[str]:
    out, skip = [], False
    for w in argv:
        if skip:
            skip = False
        elif w == "--threads":
            skip = True
        elif not w.startswith("--threads=") and w not in ("-v", "--verbose"):
            out.append(w)
    return out


COMMANDS = doc_commands()


def test_the_docs_have_commands_and_each_has_a_reason_or_runs():
    assert len(COMMANDS) > 40
    for page, command in COMMANDS:
        reason = not_run_reason(page, command, rnnkit_argv(command))
        assert reason


@pytest.mark.parametrize("page,command", [c for c in COMMANDS if rnnkit_argv(c[1]) is not None],
                         ids=lambda v: v if len(v) < 60 else v[:60])
def test_every_rnnkit_command_in_the_docs_parses(page, command, tmp_path, capsys, monkeypatch):
    from rnnkit import cli
    from rnnkit.apps import get_app

    monkeypatch.chdir(tmp_path)
    # a shell variable of a loop (`train.seed=$s`) stands for a number
    argv = [re.sub(r"\$\{?\w+\}?", "0", w) for w in _global_free(rnnkit_argv(command))]
    if is_synopsis(argv):
        if argv[0] == "train":
            get_app(argv[1])
        elif argv[0] in ("export", "serve"):
            p = argparse.ArgumentParser(exit_on_error=False)
            getattr(cli._verb_module(argv[0]), f"add_{argv[0]}_args")(p)
            p.parse_args(argv[1:])
        elif argv[0] not in ("evaluate", "predict"):
            assert argv[1] in getattr(get_app(argv[0]).cli, "TOOLS", {}), command
        return
    verb = argv[0]
    if verb == "train":
        if "--resume" in argv:  # there is no run to resume here: check the rest of the line
            argv = [w for w in argv if w != "--resume"]
        code = cli.main([*argv, "--print-config"])
        err = capsys.readouterr().err
        assert code == 0, f"{page}: `{command}` -> {err}"
        return
    if verb in ("evaluate", "predict", "generate"):
        app = get_app(PAGE_APP.get(page) or _app_from_page(page, command))
        p = argparse.ArgumentParser(exit_on_error=False)
        p.add_argument("run")
        adder = getattr(app.cli, f"add_{'predict' if verb == 'generate' else verb}_args", None)
        if adder is not None:
            adder(p)
        _, extra = p.parse_known_args(argv[1:])
        assert all(not e.startswith("-") for e in extra), f"{page}: `{command}`: unknown options {extra}"
        return
    if verb in ("info", "runs"):
        return
    if verb in ("export", "serve"):
        p = argparse.ArgumentParser(exit_on_error=False)
        mod = cli._verb_module(verb)
        getattr(mod, f"add_{verb}_args")(p)
        p.parse_args(argv[1:])
        return
    tools = getattr(get_app(verb).cli, "TOOLS", {})
    assert argv[1] in tools, f"{page}: `{command}`: {verb} has no tool {argv[1]!r}"
    p = argparse.ArgumentParser(exit_on_error=False)
    tools[argv[1]][1](p)
    p.parse_known_args(argv[2:])


class _Parsed(Exception):
    pass


@pytest.mark.parametrize("page,command", [c for c in COMMANDS if benchmark_argv(c[1]) is not None],
                         ids=lambda v: v if len(v) < 60 else v[:60])
def test_every_benchmark_command_in_the_docs_parses(page, command, monkeypatch):
    """The script exists and its own parser accepts the line's arguments (``main(argv)`` is
    stopped right after ``parse_args``; a wrong option or value exits with argparse's error)."""
    import importlib.util

    script, *args = benchmark_argv(command)
    path = ROOT / script
    assert path.is_file(), f"{page}: `{command}`: no {script}"
    spec = importlib.util.spec_from_file_location(f"_doc_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.syspath_prepend(str(path.parent))
    monkeypatch.setitem(sys.modules, spec.name, module)  # a script's dataclasses look their module up there
    spec.loader.exec_module(module)
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, argv=None, namespace=None):
        original(self, argv, namespace)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    with pytest.raises(_Parsed):
        module.main([re.sub(r"\$\{?\w+\}?", "0", a) for a in args])


def _app_from_page(page: str, command: str) -> str:
    if page == "vision.md":
        return "video"
    raise AssertionError(f"{page}: which app does `{command}` use? add the page to PAGE_APP")


def test_readme_block_runs(tmp_path, monkeypatch):
    """The README's "your own text" block, as written, in order, with tiny settings appended. Each
    command is a process of its own, forked from a warm interpreter (tests/reliability/warm.py:
    what differs from a fresh ``python`` is only what was imported before the fork)."""
    from pydoc_data.topics import topics

    monkeypatch.syspath_prepend(str(ROOT / "tests" / "reliability"))
    import warm

    (tmp_path / "my_corpus.txt").write_text("\n".join(topics[k] for k in sorted(topics))[:20000], encoding="utf-8")
    readme = (ROOT / "README.md").read_text("utf-8")
    block = next(b for b in re.findall(r"```bash\n(.*?)```", readme, re.S) if "my_corpus.txt" in b)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    ran = []
    for line in block.splitlines():
        argv = rnnkit_argv(line)
        if argv is None:
            continue
        if argv[0] == "train":  # tiny settings win over the doc's (later overrides win)
            argv = [*argv, *TINY_TEXTGEN]
            argv += ["train.epochs=2"] if "--resume" in argv else ["train.epochs=1"]
        proc = warm.run(["-m", "rnnkit", *argv], cwd=tmp_path, timeout=600, env=env)
        assert proc.returncode == 0, f"`{line}` -> {proc.stderr[-2000:]}"
        ran.append((argv[0], proc.stdout))
    verbs = [v for v, _ in ran]
    assert verbs == ["train", "train", "evaluate", "predict", "runs", "info"], verbs
    assert "changed: train.epochs 1 -> 2" in ran[1][1]  # resume kept the run's own settings
    assert ran[3][1].startswith("def ")  # the prompt and its continuation
    assert "runs/mine" in ran[4][1] and "textgen" in ran[4][1]
