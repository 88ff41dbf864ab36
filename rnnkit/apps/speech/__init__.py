"""Speech recognition: log-mel features, an espeak-ng corpus, a conv + (bi)RNN CTC model, decoding.

Modules: :mod:`~rnnkit.apps.speech.features` (librosa log-mel, normalisation, SpecAugment),
:mod:`~rnnkit.apps.speech.synth` (the built-in espeak-ng corpora), :mod:`~rnnkit.apps.speech.data`
(manifest format, alphabet, speaker splits, batches), :mod:`~rnnkit.apps.speech.model`,
:mod:`~rnnkit.apps.speech.ctc_decode` (greedy and prefix beam search), :mod:`~rnnkit.apps.speech.report`
(jiwer WER/CER, report, figure), :mod:`~rnnkit.apps.speech.real` (pocketsphinx-testdata clips) and
:mod:`~rnnkit.apps.speech.pipeline` (train / evaluate / transcribe). Heavy imports (librosa, jiwer)
happen inside the functions that need them.
"""

from rnnkit.apps.speech.ctc_decode import (
           collapse,
           decode_batch,
           greedy_decode,
           prefix_beam_search,
)
from rnnkit.apps.speech.data import Alphabet, SpeechBatches, read_manifest, split_by_speaker
from rnnkit.apps.speech.features import (
           LogMelConfig,
           SpecAugment,
           SpecAugmentConfig,
           load_audio,
           log_mel,
)
from rnnkit.apps.speech.model import CTCSpeechModel, SpeechModelConfig
from rnnkit.apps.speech.synth import SynthConfig, synthesize_corpus

__all__ = ["Alphabet", "CTCSpeechModel", "LogMelConfig", "SpecAugment", "SpecAugmentConfig", "SpeechBatches",
           "SpeechModelConfig", "SynthConfig", "collapse", "decode_batch", "greedy_decode", "load_audio", "log_mel",
           "prefix_beam_search", "read_manifest", "split_by_speaker", "synthesize_corpus"]
