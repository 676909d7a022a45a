"""The numpy MiniLM embedder: shapes, invariances, meaning, and agreement with the torch reference."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.text.embed import EMBED_DIM, SentenceEmbedder, default_embedder, embed

SENTENCES = [
    "Whispering.",
    "He shouts over the storm",
    "Long pause. Deep breath. Raw but steady.",
    "Voice tightens. Fighting to stay composed.",
    "A six-year-old girl, bright and excited, speaking fast with breathless enthusiasm.",
    "Ünïcödé café — naïve émigré, 東京",
    "",
    "word " * 400,  # longer than the 256-token window: must truncate, not fail
]


def test_shape_dtype_and_unit_rows():
    vectors = embed(SENTENCES)
    assert vectors.shape == (len(SENTENCES), EMBED_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embed([]).shape == (0, EMBED_DIM)


def test_a_bare_string_is_refused_rather_than_embedded_per_character():
    with pytest.raises(TypeError):
        embed("Whispering.")


def test_deterministic_and_independent_of_batch_padding():
    together = embed(SENTENCES)
    again = embed(SENTENCES)
    assert np.array_equal(together, again)
    # Alone (no padding) vs. batched with much longer texts (lots of padding): masking must make them equal.
    for i, text in enumerate(SENTENCES):
        np.testing.assert_allclose(embed([text])[0], together[i], atol=2e-6)


def test_order_is_preserved_despite_length_sorting():
    texts = ["a much longer sentence about the sea and the wind and the rain", "short", "medium length one"]
    forward, backward = embed(texts), embed(texts[::-1])
    np.testing.assert_allclose(forward, backward[::-1], atol=2e-6)


def test_similar_sentences_are_closer_than_unrelated_ones():
    a, b, c, d = embed(["She is whispering quietly.", "Speaking in a hushed whisper.",
                        "The stock market fell sharply today.", "He is yelling at the top of his lungs."])
    assert a @ b > 0.6
    assert a @ b > a @ c + 0.3
    assert a @ b > a @ d
    assert a @ c < 0.3


def test_default_embedder_is_loaded_once():
    assert default_embedder() is default_embedder()


def test_matches_sentence_transformers_reference():
    """Same vectors as the model's own torch implementation (sentence-transformers), cosine > 0.9999."""
    sentence_transformers = pytest.importorskip("sentence_transformers")
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    ours = default_embedder()
    reference = sentence_transformers.SentenceTransformer(str(ours.model_dir), device="cpu")
    theirs = reference.encode(SENTENCES, normalize_embeddings=True, batch_size=4)
    mine = ours.embed(SENTENCES)
    cosines = np.sum(mine * theirs, axis=1)
    assert cosines.min() > 0.9999, cosines
    assert np.abs(mine - theirs).max() < 1e-4


def test_missing_model_files_raise_a_model_error(tmp_path):
    from limelight.errors import ModelFileError

    with pytest.raises(ModelFileError, match="model.safetensors"):
        SentenceEmbedder(tmp_path)


def test_embed_cached_stores_vectors_and_reuses_them(tmp_path, monkeypatch):
    from limelight.text.embed import embed_cached

    monkeypatch.setenv("LIMELIGHT_CACHE", str(tmp_path))
    texts = ["Whispering.", "Shouting over the storm."]
    first = embed_cached(texts, "vocab")
    np.testing.assert_allclose(first, embed(texts), atol=1e-6)
    (stored,) = (tmp_path / "embeddings").glob("vocab-*.npy")
    # The second call must come from disk: plant a recognisable array of the right shape there.
    marker = np.full_like(first, 0.5)
    np.save(stored, marker)
    assert np.array_equal(embed_cached(texts, "vocab"), marker)
    # Other texts get another key, so a changed vocabulary is never served stale vectors.
    np.testing.assert_allclose(embed_cached(texts[:1], "vocab"), first[:1], atol=1e-6)


def test_embed_cached_works_without_a_writable_cache(tmp_path, monkeypatch):
    from limelight.text.embed import embed_cached

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("LIMELIGHT_CACHE", str(blocker))
    np.testing.assert_allclose(embed_cached(["Calm."], "vocab"), embed(["Calm."]), atol=1e-6)


def test_embedding_never_imports_torch():
    """The point of the numpy port: no torch (or transformers) in the process that embeds."""
    import subprocess
    import sys

    code = ("import sys; from limelight.text.embed import embed; embed(['Whispering.']); "
            "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
