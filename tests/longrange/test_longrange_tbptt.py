"""Truncated BPTT keeps the autograd memory of one update flat as the stream grows."""

from rnnkit.apps.longrange.tbptt import train_stream


def test_saved_bytes_per_update_flat_with_tbptt_and_growing_without():
    k = 25
    short, long = train_stream(200, k, hidden_size=8, embed_size=4), train_stream(800, k, hidden_size=8, embed_size=4)
    assert (short["updates"], long["updates"]) == (8, 32)
    # every update of both streams saves exactly the same bytes: only k steps are in the graph
    assert set(short["saved_bytes"]) == set(long["saved_bytes"]) and len(set(long["saved_bytes"])) == 1
    full_short = train_stream(200, 0, hidden_size=8, embed_size=4)
    full_long = train_stream(800, 0, hidden_size=8, embed_size=4)
    assert full_short["updates"] == full_long["updates"] == 1
    # full BPTT: the one update holds the whole stream, ~4x for a 4x longer stream
    ratio = full_long["max_saved_bytes"] / full_short["max_saved_bytes"]
    assert 3.5 < ratio <= 4.0, ratio
    assert full_short["max_saved_bytes"] > 5 * short["max_saved_bytes"]
