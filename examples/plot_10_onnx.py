"""
==============================
Deploying a pipeline with ONNX
==============================

A fitted pipeline can leave Python behind: converted to an ONNX graph with
``skl2onnx``, it runs in onnxruntime (from C, C++, C#, Java, JavaScript or
Python), with neither scikit-learn nor sknonlin installed. This example
exports a ``StandardScaler → PolynomialFeatureMap → Ridge`` pipeline, checks
that the graph predicts what the pipeline predicts, serves it from the saved
file alone, and does the same for a classifier with string labels. It needs
the ``onnx`` extra: ``pip install "sknonlin[onnx]"``.
"""

# %%
# Export
# ------
# Importing :mod:`sknonlin.onnx` registers the package's converters with
# ``skl2onnx``; from then on, ``to_onnx`` converts sknonlin estimators like
# scikit-learn's. The sample passed with the model fixes the input's name,
# dtype and width; the number of rows stays free. Here, float32, the type
# most runtimes compute in.
import collections
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

import sknonlin.onnx  # noqa: F401 (registers the converters)
from sknonlin import MulticlassPerceptron, PolynomialFeatureMap

X, y = load_diabetes(return_X_y=True)
model = make_pipeline(StandardScaler(), PolynomialFeatureMap(degree=3), Ridge())
model.fit(X, y)

onx = to_onnx(model, X[:1].astype(np.float32))
path = Path(tempfile.mkdtemp()) / "diabetes.onnx"
path.write_bytes(onx.SerializeToString())
print(f"{path.name}: {path.stat().st_size / 1024:.1f} KiB")
print("nodes:", dict(collections.Counter(node.op_type for node in onx.graph.node)))

# %%
# Check
# -----
# Before shipping the file, compare its predictions with the pipeline's on
# held data. The graph computes in float32, so they agree to float32's
# precision (about 1e-7 relative), not to the bit; in float64 (pass a float64
# sample to ``to_onnx``) they agree to float64's.
session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
(predicted,) = session.run(None, {"X": X.astype(np.float32)})
expected = model.predict(X)
deviation = np.abs(predicted[:, 0] - expected).max() / np.abs(expected).max()
print(f"largest deviation: {deviation:.1e} of the largest prediction")

# %%
# Serve
# -----
# In production only onnxruntime and the file are needed. The graph's input
# and outputs have names and shapes (``None`` or a name marks the free
# dimension); a regressor's output has one column per target.
for node in session.get_inputs():
    print("input: ", node.name, node.type, node.shape)
for node in session.get_outputs():
    print("output:", node.name, node.type, node.shape)


def predict(rows):
    """What a service does with each request: no scikit-learn involved."""
    features = np.asarray(rows, dtype=np.float32).reshape(-1, 10)
    return session.run(None, {"X": features})[0][:, 0]


print(predict(X[:3]), "vs", expected[:3])

# %%
# A classifier
# ------------
# The converted perceptrons output ``label``, the labels themselves (strings
# here), and ``scores``, their ``decision_function``. Ties go to the first
# class, as in ``predict``. The three iris species become linearly separable
# after a degree-3 feature map, so the perceptron stops without a mistake.
iris = load_iris()
X_iris, names = iris.data, iris.target_names[iris.target]
classifier = make_pipeline(
    StandardScaler(),
    PolynomialFeatureMap(degree=3),
    MulticlassPerceptron(max_iter=1000, random_state=0),
).fit(X_iris, names)
classifier_session = ort.InferenceSession(
    to_onnx(classifier, X_iris[:1].astype(np.float32)).SerializeToString()
)
labels, scores = classifier_session.run(None, {"X": X_iris.astype(np.float32)})
print(labels[:3], scores[:3].round(2))
print("same labels as predict:", bool(np.all(labels == classifier.predict(X_iris))))

# %%
# The size of the graph
# ---------------------
# The feature map's graph builds each degree from the one below with a few
# nodes, whatever the number of output columns. scikit-learn's
# ``PolynomialFeatures`` is converted to two nodes per output column, so its
# graph grows with the number of columns: 10 features give 286 columns at
# degree 3.
degrees = [1, 2, 3]
sizes = {"PolynomialFeatureMap": [], "PolynomialFeatures": []}
for degree in degrees:
    for name, poly in [
        ("PolynomialFeatureMap", PolynomialFeatureMap(degree=degree)),
        ("PolynomialFeatures", PolynomialFeatures(degree=degree)),
    ]:
        pipeline = make_pipeline(StandardScaler(), poly, Ridge()).fit(X, y)
        graph = to_onnx(pipeline, X[:1].astype(np.float32)).graph
        sizes[name].append(len(graph.node))
        print(f"degree {degree}, {name}: {len(graph.node)} nodes")

fig, ax = plt.subplots(figsize=(6, 4))
width = 0.4
for shift, (name, counts) in zip((-width / 2, width / 2), sizes.items(), strict=True):
    ax.bar(np.array(degrees) + shift, counts, width, label=name)
ax.set(
    xlabel="degree",
    ylabel="nodes in the ONNX graph",
    yscale="log",
    xticks=degrees,
    title="StandardScaler → feature map → Ridge on diabetes",
)
ax.legend()
plt.show()
