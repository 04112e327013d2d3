"""Which MatMuls to quantise: int8 recipes against ONNX fp32 on the PolicyQA dev passages and questions.

    .venv/bin/python bench/int8_variants.py

Variants: A every MatMul int8 (per channel); B the attention-score products (activation x
activation) left fp32 as well; C each layer's feed-forward output projection left fp32 too (PolicyQA's
recipe, ``index.engine._quantize``). Prints, per variant: passages/s (each text alone on one
1-thread session per core, medians of interleaved rounds), mean cosine of passage and question
vectors to fp32, top-1 passage agreement with fp32 and fp32's top-1 within the top 5.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))


def main() -> int:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from engines import MODEL, load_dev
    from index import embedder, engine
    from index.embedder import _model_dir, query_model

    passages, queries = load_dev(600, 200)
    questions = [q for q, _ in queries]
    tokenizer = _model_dir(MODEL) / "tokenizer.json"
    out = Path(tempfile.mkdtemp(prefix="policyqa-int8-"))
    for tag, adapter in (("doc", False), ("query", True)):
        engine._export(query_model(MODEL, adapter)[0].auto_model, out / f"{tag}-fp32.onnx", False)
    names = [n.name for n in onnx.load(str(out / "doc-fp32.onnx"), load_external_data=False).graph.node
             if n.op_type == "MatMul"]
    scores = [n for n in names if n.endswith(("/self/MatMul", "/self/MatMul_1"))]
    ffn_out = [n for n in names if "/output/dense/" in n and "/attention/" not in n]
    variants = {"A": [], "B": scores, "C": scores + ffn_out}

    def run(path, texts):
        encoder = engine.Encoder(path, tokenizer, 256, threads=1)

        def one(text):
            hidden, mask = encoder.hidden_states([text])
            return engine.mean_pool(hidden, mask)[0]

        started = time.perf_counter()
        vectors = np.vstack(list(embedder.workers().map(one, texts)))
        return vectors, len(texts) / (time.perf_counter() - started)

    ref_d, _ = run(out / "doc-fp32.onnx", passages)
    ref_q, _ = run(out / "query-fp32.onnx", questions)
    reference = np.argsort(-(ref_q @ ref_d.T), axis=1)[:, :5]
    for name, exclude in variants.items():
        for tag in ("doc", "query"):
            quantize_dynamic(str(out / f"{tag}-fp32.onnx"), str(out / f"{tag}-{name}.onnx"), per_channel=True,
                             weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], nodes_to_exclude=exclude)
    speeds = {name: [] for name in variants}
    for _ in range(3):
        for name in variants:
            speeds[name].append(run(out / f"doc-{name}.onnx", passages)[1])
    print("| variant | passages/s | cosine (passages) | cosine (questions) | top-1 = fp32's | fp32's top-1 in top 5 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in variants:
        d, _ = run(out / f"doc-{name}.onnx", passages)
        q, _ = run(out / f"query-{name}.onnx", questions)
        order = np.argsort(-(q @ d.T), axis=1)[:, :5]
        print(f"| {name} | {statistics.median(speeds[name]):.1f} | {(d * ref_d).sum(1).mean():.4f} | "
              f"{(q * ref_q).sum(1).mean():.4f} | {(order[:, 0] == reference[:, 0]).mean():.2f} | "
              f"{np.mean([reference[i, 0] in order[i] for i in range(len(order))]):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
