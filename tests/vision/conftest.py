import pytest

from rnnkit.apps.vision.digits import load_digit_images


@pytest.fixture(scope="session")
def sk_digits():
    """scikit-learn's 1,797 real 8x8 digits (bundled, loads in well under a second)."""
    return load_digit_images("sklearn")
