"""Embedding in length-sorted slices returns each text's own vector, in the caller's order (both engines)."""
import numpy as np

from index.embedder import embed, embed_query, load_model


def test_sorted_batches_keep_the_callers_order():
    texts = ["We sell nothing.", "Cookies " * 40, "We keep logs for thirty days and then delete them.", "Hi",
             "Our payment processor receives your card number, expiry date and billing address."]
    done = []
    vectors = embed("all-MiniLM-L6-v2", texts, batch_size=2, progress=done.append, engine="fp32")
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32 and sum(done) == 5
    model = load_model("all-MiniLM-L6-v2")
    one_by_one = np.vstack([model.encode([t], normalize_embeddings=True) for t in texts])
    assert np.allclose(vectors, one_by_one, atol=1e-4)
    # questions with the plain model match documents' vectors (the query adapter: tests/test_query_adapter.py)
    assert np.allclose(embed_query("all-MiniLM-L6-v2", texts[2], adapter=False, engine="fp32"), one_by_one[2],
                       atol=1e-4)
    assert embed("all-MiniLM-L6-v2", [], engine="fp32").shape == (0, 384)
    # the int8 engine (the default) keeps the order too, and stays close to fp32
    done.clear()
    fast = embed("all-MiniLM-L6-v2", texts, batch_size=2, progress=done.append)
    assert fast.shape == (5, 384) and fast.dtype == np.float32 and sum(done) == 5
    assert np.allclose(np.linalg.norm(fast, axis=1), 1, atol=1e-5)
    assert (fast * one_by_one).sum(axis=1).min() > 0.96
    assert np.allclose(embed_query("all-MiniLM-L6-v2", texts[2], adapter=False), fast[2], atol=1e-4)
    assert embed("all-MiniLM-L6-v2", []).shape == (0, 384)
