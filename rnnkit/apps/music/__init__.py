"""Music composition: melodies as (pitch, duration) events, an LSTM with pitch and duration heads.

    from rnnkit.apps.music import MusicConfig, train, load_run, compose, parse_notes, write_midi
    result = train(MusicConfig(), Path("runs/music"))          # Bach chorales, report in the folder
    cfg, codec, model = load_run("runs/music")
    cont = compose(model, codec, [parse_notes("G4/1 G4/1 D5/1 B4/1.5")], 32, cfg.sample.decoding)[0]
    write_midi(parse_notes("G4/1 G4/1 D5/1 B4/1.5") + cont, "tune.mid")

Modules: events (event tuples, codec), data (chorales, MIDI corpora, split), midi_io (mido),
model (MelodyLSTM), baselines (unigram/bigram), metrics, report, pipeline (the task).
"""

from rnnkit.apps.music.baselines import EventNgram
from rnnkit.apps.music.data import (
    Melody,
    MelodyCorpus,
    load_chorales,
    load_midi_corpus,
    parse_chorale,
    split_melodies,
)
from rnnkit.apps.music.events import (
    REST,
    TICKS_PER_QUARTER,
    EventCodec,
    format_notes,
    normalize,
    parse_notes,
)
from rnnkit.apps.music.midi_io import read_midi, write_midi
from rnnkit.apps.music.model import MelodyLSTM, MelodyModelConfig
from rnnkit.apps.music.pipeline import (
    PRESETS,
    MusicConfig,
    compose,
    default_config,
    evaluate,
    generate,
    load_melodies,
    load_run,
    train,
)
from rnnkit.apps.music.report import plot_piano_roll

__all__ = [
    "PRESETS",
    "REST",
    "TICKS_PER_QUARTER",
    "EventCodec",
    "EventNgram",
    "Melody",
    "MelodyCorpus",
    "MelodyLSTM",
    "MelodyModelConfig",
    "MusicConfig",
    "compose",
    "default_config",
    "evaluate",
    "format_notes",
    "generate",
    "load_chorales",
    "load_melodies",
    "load_midi_corpus",
    "load_run",
    "normalize",
    "parse_chorale",
    "parse_notes",
    "plot_piano_roll",
    "read_midi",
    "split_melodies",
    "train",
    "write_midi",
]
