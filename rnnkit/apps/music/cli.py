"""Music from the command line: train an event LSTM on melodies, evaluate it, compose with it.

    rnnkit train music [--preset demo|tiny|large] [--data MIDI_FILE_OR_FOLDER] [--run-dir DIR]
                       [--resume] [--print-config] [key=value ...]
    rnnkit evaluate RUN
    rnnkit predict RUN [--prime "G4/1 G4/1 D5/1" | --prime-midi FILE | --test-piece I]
                       [--prime-events K] [--events N] [--strategy sample|greedy] [--temperature T]
                       [--prime-key KEY] [--top-k K] [--top-p P] [--seed S] [--out FILE.mid] [--bpm BPM]

Without ``--data`` the run uses the Bach chorales bundled with music21 (``pip install music21``),
parsed once and cached. ``predict`` (alias ``generate``) writes ``FILE.mid`` and ``FILE.png`` (a piano roll) and prints
the notes. A ``--prime-midi`` melody is moved to C major / A minor for a model trained transposed,
and the result is moved back to the primer's key; ``--prime-key`` does the same for ``--prime`` notes.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit import config as C

__all__ = ["add_predict_args", "predict"]


def add_predict_args(g) -> None:
    src = g.add_mutually_exclusive_group()
    src.add_argument("--prime", default=None, help='notes such as "G4/1 G4/1 D5/1 B4/1.5" (NAME/QUARTERS; r = rest)')
    src.add_argument("--prime-midi", default=None, help="a MIDI file whose first --prime-events events prime the model")
    src.add_argument("--test-piece", type=int, default=0, help="prime with held-out piece I of the run (default 0)")
    g.add_argument("--prime-key", default=None,
                   help="key of --prime notes, e.g. G or F#m: moved to C major / A minor for a model trained "
                        "transposed, and the result moved back")
    g.add_argument("--prime-events", type=int, default=None, help="events taken from --prime-midi/--test-piece (default: the run's)")
    g.add_argument("--events", type=int, default=64, help="events to generate (fewer if END is drawn)")
    g.add_argument("--strategy", choices=["sample", "greedy"], default="sample")
    g.add_argument("--temperature", type=float, default=1.0)
    g.add_argument("--top-k", type=int, default=0)
    g.add_argument("--top-p", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", default=None, help="output .mid (default RUN/composed.mid); the piano roll goes beside it")
    g.add_argument("--bpm", type=float, default=90.0)


def predict(args) -> int:
    return _generate(args)


def _primer(args, cfg):
    """(events to prime with, shift into the model's key, description)."""
    from rnnkit.apps.music import pipeline as task
    from rnnkit.apps.music.data import estimate_key, split_melodies
    from rnnkit.apps.music.events import normalize, parse_notes
    from rnnkit.apps.music.midi_io import KEY_SIGNATURES, read_midi

    k = args.prime_events if args.prime_events is not None else cfg.sample.prime_events
    if k < 1:
        raise ValueError(f"--prime-events must be >= 1, got {k}")
    if args.prime_key is not None and args.prime is None:
        raise ValueError("--prime-key applies to --prime notes (a MIDI primer's key is read from the file)")
    if args.prime is not None:
        events = normalize(parse_notes(args.prime))
        if args.prime_key is None or not cfg.data.transpose:
            return events, 0, "the given notes"
        if args.prime_key not in KEY_SIGNATURES:
            raise ValueError(f"--prime-key {args.prime_key!r} is not a key like C, Bb, F#m or Ebm")
        events, shift = task.transposed_primer(events, KEY_SIGNATURES[args.prime_key])
        return events, shift, f"the given notes in {args.prime_key}"
    if args.prime_midi is not None:
        mel = read_midi(args.prime_midi, grid=cfg.data.grid, track=cfg.data.track)
        events = mel.events[:k]
        if not cfg.data.transpose:
            return events, 0, args.prime_midi
        key = mel.key or estimate_key(mel.events)
        events, shift = task.transposed_primer(events, key)
        return events, shift, args.prime_midi
    corpus = task.load_melodies(cfg.data, progress=True)
    test = split_melodies(corpus.melodies, cfg.data.val_fraction, cfg.data.test_fraction, cfg.data.seed)[2]
    if not 0 <= args.test_piece < len(test):
        raise ValueError(f"--test-piece must be in [0, {len(test)}), got {args.test_piece}")
    mel = test[args.test_piece]
    return mel.events[:k], 0, f"held-out piece {mel.name}"


def _generate(args) -> int:
    from rnnkit.decoding import DecodingConfig
    from rnnkit.apps.music.events import format_notes, transpose
    from rnnkit.apps.music.midi_io import write_midi
    from rnnkit.apps.music.pipeline import compose, load_run
    from rnnkit.apps.music.report import plot_piano_roll

    if args.events < 1:
        raise ValueError(f"--events must be >= 1, got {args.events}")
    cfg, codec, model = load_run(args.run)
    primer, shift, where = _primer(args, cfg)
    decoding = DecodingConfig(strategy=args.strategy, temperature=args.temperature, top_k=args.top_k,
                              top_p=args.top_p, max_new_tokens=args.events, seed=args.seed)
    cont = compose(model, codec, [primer], args.events, decoding)[0]
    primer, cont = transpose(primer, -shift), transpose(cont, -shift)  # back to the primer's key
    out = Path(args.out) if args.out else Path(args.run) / "composed.mid"
    write_midi(primer + cont, out, bpm=args.bpm)
    png = plot_piano_roll([(f"{out.name}: primed with {where}", primer, cont)], out.with_suffix(".png"))
    print(f"primer ({where}): {format_notes(primer)}")
    print(f"generated {len(cont)} events: {format_notes(cont)}")
    print(f"wrote {out} and {png}")
    return 0
