"""Training and inference compute the same features: the sparse matrix training fits on, times
the weights, equals what inference sums without building it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf.features import SHAPE_NAMES, Featurizer, build_char_tables, pack_weights

sparse = pytest.importorskip("scipy.sparse")


@pytest.fixture(scope="module")
def featurizer() -> Featurizer:
    classes, fold = build_char_tables()
    return Featurizer(16, (3, 4), classes, fold)


paragraphs = st.lists(
    st.text(alphabet=st.sampled_from(list("abc XYZ.,:|@$©0123\t東京ЖЩال👍-•")), max_size=60) | st.just(""), max_size=12
)


@settings(max_examples=60, deadline=None)
@given(paragraphs)
def test_linear_scores_equal_the_sparse_product(featurizer: Featurizer, texts: list[str]) -> None:
    weights = np.random.default_rng(len(texts)).normal(size=(1 << 16, 2)).astype(np.float32)
    hashed, shape, _ = featurizer.transform(texts)
    matrix = sparse.csr_matrix((hashed.vals, (hashed.rows, hashed.cols)), shape=(len(texts), 1 << 16))
    scores, shape_again, _ = featurizer.linear_scores(texts, pack_weights(weights[:, 0], weights[:, 1]))
    np.testing.assert_allclose(scores, matrix @ weights.astype(np.float64), atol=1e-4)
    np.testing.assert_array_equal(shape, shape_again)
    assert shape.shape == (len(texts), len(SHAPE_NAMES))


def test_features_ignore_case_digits_and_surrounding_space(featurizer: Featurizer) -> None:
    a, _, _ = featurizer.transform(["Page 12 of 40"])
    b, _, _ = featurizer.transform(["  page 57 OF 99\t"])
    assert sorted(a.cols.tolist()) == sorted(b.cols.tolist())


def test_shape_features_read_what_they_say(featurizer: Featurizer) -> None:
    _, shape, _ = featurizer.transform(["- A list item.", "Visit https://example.org", "© 2025 Site", "Once", "a | b"])
    col = {name: shape[:, i] for i, name in enumerate(SHAPE_NAMES)}
    assert col["starts_bullet"].tolist() == [1, 0, 0, 0, 0]
    assert col["ends_terminal"].tolist() == [1, 0, 0, 0, 0]
    assert col["has_url"].tolist() == [0, 1, 0, 0, 0]
    assert col["has_copyright"].tolist() == [0, 0, 1, 0, 0]
    assert col["one_word"].tolist() == [0, 0, 0, 1, 0]
    assert col["has_pipe"].tolist() == [0, 0, 0, 0, 1]


def test_a_trademark_sign_is_no_copyright_line(featurizer: Featurizer) -> None:
    """® and ™ name products in body text; only © marks a copyright notice."""
    _, shape, _ = featurizer.transform(["DICOM® is the standard for medical images.", "Velo™ bikes", "© 2025 Site"])
    assert shape[:, SHAPE_NAMES.index("has_copyright")].tolist() == [0, 0, 1]
